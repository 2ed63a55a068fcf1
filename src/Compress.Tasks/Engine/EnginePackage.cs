namespace Compress.Tasks.Engine;

/// <summary>One NuGet package the engine runs with, at the exact version it was built against.</summary>
internal sealed class EnginePackage
{
    public EnginePackage(string id, string version, long bytes, string rid)
    {
        Id = id;
        Version = version;
        Bytes = bytes;
        Rid = rid;
    }

    /// <summary>The package id as NuGet spells it.</summary>
    public string Id { get; }

    /// <summary>The exact version.</summary>
    public string Version { get; }

    /// <summary>The .nupkg size recorded when the Compress package was packed; 0 when unknown.</summary>
    public long Bytes { get; }

    /// <summary>Empty for every machine; otherwise the one runtime identifier that needs it (the libtorch packages).</summary>
    public string Rid { get; }

    /// <summary>The package's folder in a NuGet global packages folder (ids are lower-cased there).</summary>
    public string FolderIn(string packageRoot) => Path.Combine(packageRoot, Id.ToLowerInvariant(), Version.ToLowerInvariant());

    /// <summary>NuGet writes .nupkg.metadata last, so its presence means the package was extracted whole.</summary>
    public bool IsRestoredIn(string packageRoot) => File.Exists(Path.Combine(FolderIn(packageRoot), ".nupkg.metadata"));

    public override string ToString() => Id + " " + Version;
}

namespace Compress.Tasks.Engine;

/// <summary>
/// One NuGet package the engine runs with: <paramref name="Id"/> as NuGet spells it, the exact
/// <paramref name="Version"/>, the .nupkg size recorded when the Compress package was packed (<paramref name="Bytes"/>,
/// 0 when unknown), and <paramref name="Rid"/>: empty for every machine, otherwise the one runtime identifier that
/// needs it (the libtorch packages).
/// </summary>
internal sealed record EnginePackage(string Id, string Version, long Bytes, string Rid)
{
    /// <summary>The package's folder in a NuGet global packages folder (ids are lower-cased there).</summary>
    public string FolderIn(string packageRoot) => Path.Combine(packageRoot, Id.ToLowerInvariant(), Version.ToLowerInvariant());

    /// <summary>NuGet writes .nupkg.metadata last, so its presence means the package was extracted whole.</summary>
    public bool IsRestoredIn(string packageRoot) => File.Exists(Path.Combine(FolderIn(packageRoot), ".nupkg.metadata"));

    public override string ToString() => Id + " " + Version;
}

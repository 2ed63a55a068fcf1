namespace Compress.Tasks.Tests;

/// <summary>
/// `dotnet pack` of src/Compress.Package into a temporary folder feed, once per test class, with a version unique to
/// this run (so the machine's NuGet cache never serves a stale package); its cache folder is removed on dispose.
/// </summary>
public sealed class PackedFeed : IDisposable
{
    private readonly TempFolder _temp = new();

    public PackedFeed()
    {
        Version = "0.0.0-test" + DateTime.UtcNow.ToString("yyyyMMddHHmmssfff", System.Globalization.CultureInfo.InvariantCulture);
        Configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name;
        FeedDirectory = Path.Combine(_temp.Path, "feed");
        (PackExitCode, PackOutput) = DotnetCli.Run(RepoPaths.Root, "pack", "src/Compress.Package", "-nologo",
            "-nodeReuse:false", "-p:UseSharedCompilation=false", "-c", Configuration, "-o", FeedDirectory,
            "-p:PackageVersion=" + Version);
        PackagePath = Path.Combine(FeedDirectory, $"Compress.{Version}.nupkg");
    }

    /// <summary>The package version of this run.</summary>
    public string Version { get; }

    /// <summary>The configuration the tests were built in (Debug/Release); the pack reuses its outputs.</summary>
    public string Configuration { get; }

    /// <summary>The local feed folder.</summary>
    public string FeedDirectory { get; }

    /// <summary>The .nupkg file.</summary>
    public string PackagePath { get; }

    /// <summary>Exit code of dotnet pack.</summary>
    public int PackExitCode { get; }

    /// <summary>Output of dotnet pack.</summary>
    public string PackOutput { get; }

    /// <summary>The NuGet global packages folder the consumer restores into.</summary>
    public static string NuGetPackagesFolder =>
        Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } folder
            ? folder
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");

    public void Dispose()
    {
        var cached = Path.Combine(NuGetPackagesFolder, "compress", Version);
        if (Directory.Exists(cached))
        {
            Directory.Delete(cached, recursive: true);
        }
        _temp.Dispose();
    }
}

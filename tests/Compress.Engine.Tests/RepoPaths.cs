namespace Compress.Engine.Tests;

/// <summary>Locations of the repository and the copied fixtures, found from the test assembly's folder.</summary>
internal static class RepoPaths
{
    /// <summary>The repository root (the folder holding Compress.sln).</summary>
    public static string Root { get; } = FindRoot();

    /// <summary>A file under the test output's <c>fixtures/</c> folder (copied from tests/fixtures).</summary>
    public static string Fixture(params string[] parts) =>
        Path.Combine([AppContext.BaseDirectory, "fixtures", .. parts]);

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Compress.sln"))) return dir.FullName;
        throw new InvalidOperationException("Compress.sln not found above " + AppContext.BaseDirectory);
    }
}

namespace Compress.Tasks.Tests;

/// <summary>Locates the repository from the test output folder.</summary>
internal static class RepoPaths
{
    /// <summary>The repository root (the folder holding Compress.sln).</summary>
    public static string Root { get; } = FindRoot();

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Compress.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException("Compress.sln not found above " + AppContext.BaseDirectory);
    }
}

namespace Compress.Tasks.Engine;

/// <summary>Finds the dotnet executable that runs the engine and its restore.</summary>
internal static class DotnetCommand
{
    /// <summary>
    /// <paramref name="explicitHost"/> when set (null if that file is missing); else DOTNET_HOST_PATH (set by
    /// <c>dotnet build</c> to the dotnet that runs MSBuild; Visual Studio does not set it); else dotnet on PATH.
    /// </summary>
    public static string? Resolve(string explicitHost)
    {
        if (explicitHost.Length > 0)
        {
            return File.Exists(explicitHost) ? Path.GetFullPath(explicitHost) : null;
        }
        var fromHost = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        if (!string.IsNullOrEmpty(fromHost) && File.Exists(fromHost))
        {
            return fromHost;
        }
        var exe = Path.DirectorySeparatorChar == '\\' ? "dotnet.exe" : "dotnet";
        foreach (var directory in (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator))
        {
            if (directory.Length > 0 && File.Exists(Path.Combine(directory, exe)))
            {
                return Path.Combine(directory, exe);
            }
        }
        return null;
    }
}

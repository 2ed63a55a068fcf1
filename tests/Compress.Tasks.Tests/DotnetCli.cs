using System.Diagnostics;

namespace Compress.Tasks.Tests;

/// <summary>Runs the dotnet CLI as a child process, without the test host's MSBuild variables.</summary>
internal static class DotnetCli
{
    /// <summary>Runs <c>dotnet ARGS</c> in a folder and returns its exit code and stdout + stderr.</summary>
    public static (int ExitCode, string Output) Run(string workingDirectory, params string[] arguments) =>
        Run(workingDirectory, new Dictionary<string, string>(), arguments);

    /// <summary>As <see cref="Run(string, string[])"/>, with extra environment variables for the child.</summary>
    public static (int ExitCode, string Output) Run(string workingDirectory, IReadOnlyDictionary<string, string> environment,
        params string[] arguments) => RunProgram("dotnet", workingDirectory, environment, arguments);

    /// <summary>Runs another program the same way (e.g. <c>script</c> for a pseudo-terminal).</summary>
    public static (int ExitCode, string Output) RunProgram(string program, string workingDirectory, params string[] arguments) =>
        RunProgram(program, workingDirectory, new Dictionary<string, string>(), arguments);

    private static (int ExitCode, string Output) RunProgram(string program, string workingDirectory,
        IReadOnlyDictionary<string, string> environment, params string[] arguments)
    {
        var start = new ProcessStartInfo(program)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        // The test host runs inside an MSBuild-started process; its MSBuild variables would steer the child build.
        foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            start.Environment.Remove(key);
        }
        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, stdout + stderr.Result);
    }
}

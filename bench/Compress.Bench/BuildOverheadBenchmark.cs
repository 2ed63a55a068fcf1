using System.Diagnostics;
using System.Globalization;

namespace Compress.Bench;

/// <summary>
/// No-op incremental build overhead of the build step: `dotnet build example-project` with everything up to date,
/// with the step on and with -p:CompressEnabled=false, alternating in one run so both see the same machine load.
/// The difference of the medians is the step's cost when nothing changed (target 0.3 s at most).
/// </summary>
internal static class BuildOverheadBenchmark
{
    public static int Run(int rounds = 10)
    {
        string root = FindRoot();
        string project = Path.Combine(root, "example-project");
        // Make both variants up to date first (the first build may train, prune and export for a minute or two).
        foreach (var extra in new[] { "", "-p:CompressEnabled=false" })
        {
            var (code, output) = Build(project, extra);
            if (code != 0)
            {
                Console.Error.WriteLine(output);
                return code;
            }
        }

        var on = new List<double>();
        var off = new List<double>();
        for (int i = 0; i < rounds; i++)
        {
            on.Add(Time(project, ""));
            off.Add(Time(project, "-p:CompressEnabled=false"));
        }

        var c = CultureInfo.InvariantCulture;
        Console.WriteLine($"## No-op incremental build of example-project, {rounds} alternating rounds (dotnet build --no-restore)");
        Console.WriteLine();
        Console.WriteLine("| variant | median s | min s | max s |");
        Console.WriteLine("|---|---:|---:|---:|");
        Console.WriteLine(string.Create(c, $"| build step on | {Median(on):F3} | {on.Min():F3} | {on.Max():F3} |"));
        Console.WriteLine(string.Create(c, $"| CompressEnabled=false | {Median(off):F3} | {off.Min():F3} | {off.Max():F3} |"));
        Console.WriteLine();
        Console.WriteLine(string.Create(c, $"Overhead of the step when nothing changed (difference of medians): {Median(on) - Median(off):F3} s"));
        Console.WriteLine();
        return 0;
    }

    private static double Time(string project, string extra)
    {
        var clock = Stopwatch.StartNew();
        var (code, output) = Build(project, extra);
        if (code != 0) throw new InvalidOperationException(output);
        return clock.Elapsed.TotalSeconds;
    }

    private static (int Code, string Output) Build(string project, string extra)
    {
        var start = new ProcessStartInfo("dotnet", $"build \"{project}\" --no-restore -nologo -v:q {extra}")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, stdout + stderr.Result);
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Compress.sln"))) return dir.FullName;
        throw new InvalidOperationException("Compress.sln not found above " + AppContext.BaseDirectory);
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        int n = sorted.Count;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }
}

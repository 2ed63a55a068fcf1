using System.Diagnostics;
using System.Globalization;

namespace Compress.Bench;

/// <summary>
/// No-op incremental build overhead of the build step, with everything up to date, with the step on and with
/// -p:CompressEnabled=false, alternating in one run so both see the same machine load. The difference of the medians
/// is the step's cost when nothing changed (target 0.3 s at most). Two projects: a consumer of the real packed package
/// (net8.0, a PackageReference and a CompressModel item, as a user writes it) and the in-repo example-project.
/// </summary>
internal static class BuildOverheadBenchmark
{
    public static int Run(int rounds = 10)
    {
        string root = FindRoot();
        string temp = Path.Combine(Path.GetTempPath(), "compress-bench-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        try
        {
            string consumer = PackagedConsumer(root, temp);
            int code = Measure(consumer, "packaged consumer (net8.0, real packed Compress package)", rounds);
            return code != 0 ? code : Measure(Path.Combine(root, "example-project"), "example-project (in-repo wiring)", rounds);
        }
        finally
        {
            if (Directory.Exists(temp)) Directory.Delete(temp, recursive: true);
            var cached = Path.Combine(NuGetPackages(), "compress", PackageVersion);
            if (Directory.Exists(cached)) Directory.Delete(cached, recursive: true);
        }
    }

    private static readonly string PackageVersion = "0.0.0-bench" + DateTime.UtcNow.ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture);

    /// <summary>Packs the package into a feed and writes a consumer with a small trained model next to it.</summary>
    private static string PackagedConsumer(string root, string temp)
    {
        string feed = Path.Combine(temp, "feed");
        string app = Path.Combine(temp, "app");
        Directory.CreateDirectory(app);
        Check(Dotnet(root, $"pack src/Compress.Package -c Release -nologo -o \"{feed}\" -p:PackageVersion={PackageVersion}"));
        string engine = Path.Combine(root, "src", "Compress.Cli", "bin", "Release", "net8.0", "compress.dll");
        Check(Dotnet(app, $"\"{engine}\" train --model resnet18-cifar -w 0.0625 --synthetic-train 320 --synthetic-test 160 --epochs 1 --batch-size 32 --output w.safetensors"));
        File.WriteAllText(Path.Combine(app, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration><packageSources><add key="bench-feed" value="{feed}" /></packageSources></configuration>
            """);
        File.WriteAllText(Path.Combine(app, "app.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup><TargetFramework>net8.0</TargetFramework></PropertyGroup>
              <ItemGroup>
                <PackageReference Include="Compress" Version="{PackageVersion}" PrivateAssets="all" />
                <CompressModel Include="w.safetensors" Architecture="resnet18-cifar" WidthMultiplier="0.0625" Data="synthetic" PruneRate="knee" FineTuneEpochs="0" />
              </ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(app, "C.cs"), "namespace App; public static class C { }");
        Check(Dotnet(app, "restore -nologo"));
        return app;
    }

    private static int Measure(string project, string title, int rounds)
    {
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
        Console.WriteLine($"## No-op incremental build of {title}, {rounds} alternating rounds (dotnet build --no-restore)");
        Console.WriteLine();
        Console.WriteLine("| variant | median s | min s | max s |");
        Console.WriteLine("|---|---:|---:|---:|");
        Console.WriteLine(string.Create(c, $"| build step on | {Timing.Median(on):F3} | {on.Min():F3} | {on.Max():F3} |"));
        Console.WriteLine(string.Create(c, $"| CompressEnabled=false | {Timing.Median(off):F3} | {off.Min():F3} | {off.Max():F3} |"));
        Console.WriteLine();
        Console.WriteLine(string.Create(c, $"Overhead of the step when nothing changed (difference of medians): {Timing.Median(on) - Timing.Median(off):F3} s"));
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

    private static (int Code, string Output) Build(string project, string extra) =>
        Dotnet(project, $"build --no-restore -nologo -v:q {extra}");

    private static void Check((int Code, string Output) result)
    {
        if (result.Code != 0) throw new InvalidOperationException(result.Output);
    }

    private static string NuGetPackages() =>
        Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } folder
            ? folder
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");

    private static (int Code, string Output) Dotnet(string directory, string arguments)
    {
        var start = new ProcessStartInfo("dotnet", arguments)
        {
            WorkingDirectory = directory,
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
}

using System.Diagnostics;

namespace Compress.Tasks.Tests;

/// <summary>
/// Real `dotnet build` of a small consumer project that imports build/Compress.props and .targets, with a fake
/// engine (a shell script run by /bin/sh in place of dotnet): checks the target runs, is incremental per model, and
/// turns the engine's error lines into a failed build with the file, position and code.
/// </summary>
public sealed class CompressTargetsTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void Build_TwoModels_RunsEachOnceThenOnlyTheChangedOneAndReportsEngineErrors()
    {
        var root = RepoPaths.Root.Replace('\\', '/');
        var log = Path.Combine(_temp.Path, "runs.log");
        var engine = _temp.File("fake-compress.dll", $$"""
            spec=$(sed -n 's/^--spec //p' "${1#@}" | tr -d '"')
            name=$(sed -n 's/^  "name": "\(.*\)",$/\1/p' "$spec")
            out=$(sed -n 's/^  "outputDirectory": "\(.*\)",$/\1/p' "$spec")
            echo "$name" >> '{{log}}'
            if [ -f '{{_temp.Path}}/fail' ]; then echo "$spec(2,3): error CMP0101: Unknown architecture."; exit 1; fi
            mkdir -p "$out"; echo onnx > "$out/$name.onnx"; echo {} > "$out/$name.report.json"
            """);
        var weights = _temp.File("app/w/a.safetensors", "w");
        _temp.File("app/w/b.pt", "w");
        _temp.File("app/data/train/x.bin", "x");
        _temp.File("app/app.csproj", $$"""
            <Project Sdk="Microsoft.NET.Sdk">
              <Import Project="{{root}}/build/Compress.props" />
              <PropertyGroup>
                <TargetFramework>net10.0</TargetFramework>
                <CompressTasksAssembly>{{typeof(CompressModel).Assembly.Location}}</CompressTasksAssembly>
                <CompressEnginePath>{{engine}}</CompressEnginePath>
                <CompressDotnetHost>/bin/sh</CompressDotnetHost>
              </PropertyGroup>
              <ItemGroup>
                <CompressModel Include="w/a.safetensors" Architecture="lenet5" Data="data" PruneRate="knee" />
                <CompressModel Include="w/b.pt" Architecture="lenet5" Name="bee" />
              </ItemGroup>
              <Import Project="{{root}}/build/Compress.targets" />
            </Project>
            """);
        _temp.File("app/C.cs", "namespace App; public static class C { }");
        var bin = Path.Combine(_temp.Path, "app", "bin", "Debug", "net10.0");

        var (exit, output) = Build();
        Assert.True(exit == 0, output);
        Assert.Equal(["a", "bee"], File.ReadAllLines(log).Order(StringComparer.Ordinal));
        Assert.All(new[] { "a.onnx", "a.report.json", "bee.onnx", "bee.report.json" },
            f => Assert.True(File.Exists(Path.Combine(bin, f)), f));

        // Nothing changed: no engine run.
        (exit, output) = Build();
        Assert.True(exit == 0, output);
        Assert.Equal(2, File.ReadAllLines(log).Length);

        // A setting given only on the command line reruns every model it reaches, once; the same again runs nothing.
        (exit, output) = Build("-p:CompressMinAccuracy=50");
        Assert.True(exit == 0, output);
        Assert.Equal(4, File.ReadAllLines(log).Length);
        (exit, output) = Build("-p:CompressMinAccuracy=50");
        Assert.True(exit == 0, output);
        Assert.Equal(4, File.ReadAllLines(log).Length);
        (exit, output) = Build();
        Assert.True(exit == 0, output);
        Assert.Equal(6, File.ReadAllLines(log).Length);

        // With the step turned off the artifacts stay (no incremental clean of them), and turning it back on reruns
        // nothing.
        (exit, output) = Build("-p:CompressEnabled=false");
        Assert.True(exit == 0, output);
        Assert.True(File.Exists(Path.Combine(bin, "a.onnx")));
        (exit, output) = Build();
        Assert.True(exit == 0, output);
        Assert.Equal(6, File.ReadAllLines(log).Length);
        File.Delete(log);

        // A newer weights file reruns that model alone, which now fails.
        File.SetLastWriteTimeUtc(weights, DateTime.UtcNow.AddMinutes(1));
        _temp.File("fail");
        (exit, output) = Build();
        Assert.Equal(1, exit);
        Assert.Equal(["a"], File.ReadAllLines(log));
        // The engine points at the spec the task generated; the build shows the project and the item instead.
        Assert.Matches(@"app\.csproj ?: error CMP0101: CompressModel '[^']*a\.safetensors': Unknown architecture\.", output);
    }

    private (int ExitCode, string Output) Build(string extra = "")
    {
        var start = new ProcessStartInfo("dotnet", "build -nologo -nodeReuse:false -p:UseSharedCompilation=false " + extra)
        {
            WorkingDirectory = Path.Combine(_temp.Path, "app"),
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        // The test host runs inside an MSBuild-started process; its MSBuild variables would steer the child build.
        foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            start.Environment.Remove(key);
        }
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, stdout + stderr.Result);
    }
}

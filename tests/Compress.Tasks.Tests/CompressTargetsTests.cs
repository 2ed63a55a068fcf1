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
        var log = Path.Combine(_temp.Path, "runs.log");
        var weights = _temp.File("app/w/a.safetensors", "w");
        _temp.File("app/w/b.pt", "w");
        _temp.File("app/data/train/x.bin", "x");
        ConsumerProject.Write(_temp, FakeEngine(), """
            <CompressModel Include="w/a.safetensors" Architecture="lenet5" Data="data" PruneRate="knee" />
            <CompressModel Include="w/b.pt" Architecture="lenet5" Name="bee" />
            """, ShellHost);
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

    [Fact]
    public void Build_OutputDirectoryOutsideProject_FailsUnlessAllowed()
    {
        _temp.File("app/a.safetensors", "w");
        ConsumerProject.Write(_temp, FakeEngine(), """<CompressModel Include="a.safetensors" Architecture="lenet5" />""", ShellHost);
        var outside = Path.Combine(_temp.Path, "models") + "/";

        var (exit, output) = Build("-p:CompressOutputDir=" + outside);
        Assert.Equal(1, exit);
        Assert.Contains("error CMP0609: CompressOutputDir resolves to '" + outside + "'", output, StringComparison.Ordinal);
        Assert.False(Directory.Exists(outside));

        // Inside the project (not under bin/ or obj/) is fine, and so is outside once allowed explicitly.
        (exit, output) = Build("-p:CompressOutputDir=models/");
        Assert.True(exit == 0, output);
        Assert.True(File.Exists(Path.Combine(_temp.Path, "app", "models", "a.onnx")), output);
        (exit, output) = Build("-p:CompressOutputDir=" + outside + " -p:CompressAllowOutputOutsideProject=true");
        Assert.True(exit == 0, output);
        Assert.True(File.Exists(Path.Combine(outside, "a.onnx")), output);
    }

    /// <summary>Runs the fake engine (a shell script) in place of dotnet.</summary>
    private const string ShellHost = "<CompressDotnetHost>/bin/sh</CompressDotnetHost>";

    /// <summary>
    /// A shell script standing in for the engine: reads the spec named in the response file (the last argument), logs
    /// the model's name to runs.log, fails with an engine-style error line when the file <c>fail</c> exists, records
    /// COMPRESS_NATIVE_DIR in native.txt next to the output folder, and writes &lt;name&gt;.onnx and its report.
    /// </summary>
    private string FakeEngine() => _temp.File("fake-compress.dll", $$"""
        for a; do rsp=$a; done
        spec=$(sed -n 's/^--spec //p' "${rsp#@}" | tr -d '"')
        name=$(sed -n 's/^  "name": "\(.*\)",$/\1/p' "$spec")
        out=$(sed -n 's/^  "outputDirectory": "\(.*\)",$/\1/p' "$spec")
        echo "$name" >> '{{_temp.Path}}/runs.log'
        if [ -f '{{_temp.Path}}/fail' ]; then echo "$spec(2,3): error CMP0101: Unknown architecture."; exit 1; fi
        mkdir -p "$out"; echo "$COMPRESS_NATIVE_DIR" > "$out/../native.txt"
        echo onnx > "$out/$name.onnx"; echo {} > "$out/$name.report.json"
        """);

    private (int ExitCode, string Output) Build(string extra = "") =>
        DotnetCli.Run(Path.Combine(_temp.Path, "app"),
            ["build", "-nologo", "-nodeReuse:false", "-p:UseSharedCompilation=false", .. extra.Split(' ', StringSplitOptions.RemoveEmptyEntries)]);
}

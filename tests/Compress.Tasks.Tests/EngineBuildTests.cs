namespace Compress.Tasks.Tests;

/// <summary>
/// Real `dotnet build` of small consumer projects that import build/Compress.props and .targets and run the real engine
/// (src/Compress.Cli's build output), one per kind of bad input the build step must turn into a coded error that names
/// the file, with nothing written to the output folder.
/// </summary>
[Collection(RepoOutputs.Name)]
public sealed class EngineBuildTests : IClassFixture<EngineBuildTests.TinyWeights>, IDisposable
{
    private readonly TempFolder _temp = new();
    private readonly TinyWeights _weights;

    public EngineBuildTests(TinyWeights weights) => _weights = weights;

    public void Dispose() => _temp.Dispose();

    /// <summary>A 1-epoch resnet18-cifar at width 1/16 on 64 synthetic images, trained once for the class.</summary>
    public sealed class TinyWeights : IDisposable
    {
        private readonly TempFolder _temp = new();

        public TinyWeights()
        {
            Path = System.IO.Path.Combine(_temp.Path, "tiny.safetensors");
            (ExitCode, Output) = DotnetCli.Run(_temp.Path, EnginePath, "train", "--model", "resnet18-cifar", "-w", "0.0625",
                "--data", "synthetic", "--synthetic-train", "64", "--synthetic-test", "32", "--epochs", "1",
                "--batch-size", "32", "--output", Path);
        }

        public string Path { get; }

        public int ExitCode { get; }

        public string Output { get; }

        public void Dispose() => _temp.Dispose();
    }

    /// <summary>The engine this test run was built with (the solution builds src/Compress.Cli before the tests run).</summary>
    private static string EnginePath { get; } = System.IO.Path.Combine(RepoPaths.Root, "src", "Compress.Cli", "bin",
        new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name, "net8.0", "compress.dll");

    private string App => Path.Combine(_temp.Path, "app");

    private string Bin => Path.Combine(App, "bin", "Debug", "net10.0");

    [Fact]
    public void Build_ItemsWithMetadataProblems_ReportsEveryProblemWithItsCodeAndRunsNothing()
    {
        var weights = CopyWeights();
        WriteProject($"""
            <CompressModel Include="missing.safetensors" Architecture="resnet18-cifar" />
            <CompressModel Include="{weights}" Name="rate" Architecture="resnet18-cifar" PruneRate="1.5" />
            <CompressModel Include="{weights}" Name="word" Architecture="resnet18-cifar" PruneRate="fast" />
            <CompressModel Include="{weights}" Name="epochs" Architecture="resnet18-cifar" FineTuneEpochs="-1" />
            <CompressModel Include="{weights}" Name="typo" Architecture="resnet18-cifar" PruneRat="knee" />
            """);

        var (exit, output) = Build();

        Assert.Equal(1, exit);
        Assert.True(System.Text.RegularExpressions.Regex.IsMatch(output, @"error CMP0603: .*missing\.safetensors"), output); // the whole build log on failure
        Assert.True(System.Text.RegularExpressions.Regex.IsMatch(output, @"error CMP0602: .*PruneRate.*'1\.5'"), output); // the whole build log on failure
        Assert.True(System.Text.RegularExpressions.Regex.IsMatch(output, @"error CMP0602: .*PruneRate.*'fast'"), output); // the whole build log on failure
        Assert.True(System.Text.RegularExpressions.Regex.IsMatch(output, @"error CMP0602: .*FineTuneEpochs.*'-1'"), output); // the whole build log on failure
        Assert.True(System.Text.RegularExpressions.Regex.IsMatch(output, @"warning CMP0601: .*'PruneRat'.*PruneRate"), output); // the whole build log on failure
        Assert.False(Directory.Exists(Bin) && Directory.GetFiles(Bin, "*.onnx").Length > 0, output);
    }

    [Fact]
    public void Build_UnknownArchitecture_FailsWithTheEngineCodeAndTheKnownNames()
    {
        WriteProject($"""<CompressModel Include="{CopyWeights()}" Architecture="resnet19-cifar" Data="synthetic" />""");

        var (exit, output) = Build();

        Assert.Equal(1, exit);
        Assert.True(System.Text.RegularExpressions.Regex.IsMatch(output, @"error CMP0101: .*resnet19-cifar.*resnet18-cifar"), output); // the whole build log on failure
        Assert.False(File.Exists(Path.Combine(Bin, "w.onnx")), output);
    }

    [Fact]
    public void Build_WeightsOfAnotherArchitecture_FailsNamingTheWeightsFile()
    {
        WriteProject($"""<CompressModel Include="{CopyWeights()}" Architecture="vgg-cifar" WidthMultiplier="0.0625" Data="synthetic" />""");

        var (exit, output) = Build();

        Assert.Equal(1, exit);
        Assert.True(System.Text.RegularExpressions.Regex.IsMatch(output, @"error CMP010[3-6]: CompressModel .w\.safetensors.: Weights file .*w\.safetensors"), output); // the whole build log on failure
        Assert.False(File.Exists(Path.Combine(Bin, "w.onnx")), output);
    }

    [Fact]
    public void Build_SpecWithJsonSyntaxError_PointsAtTheLineAndColumn()
    {
        _temp.File("app/bad.json", "{\n  \"name\": \"bad\",\n  \"pruneRate\": knee\n}\n");
        WriteProject("""<CompressModel Include="bad.json" />""");

        var (exit, output) = Build();

        Assert.Equal(1, exit);
        Assert.True(System.Text.RegularExpressions.Regex.IsMatch(output, @"bad\.json\(3,\d+\): error CMP0620: "), output); // the whole build log on failure
        Assert.False(File.Exists(Path.Combine(Bin, "bad.onnx")), output);
    }

    [Fact]
    public void Build_OutputDirectoryOutsideTheProject_FailsBeforeRunningTheEngine()
    {
        WriteProject($"""<CompressModel Include="{CopyWeights()}" Architecture="resnet18-cifar" WidthMultiplier="0.0625" />""");
        var elsewhere = Path.Combine(_temp.Path, "elsewhere");

        var (exit, output) = Build("-p:CompressOutputDir=" + elsewhere + "/");

        Assert.Equal(1, exit);
        Assert.True(System.Text.RegularExpressions.Regex.IsMatch(output, @"error CMP0609: CompressOutputDir resolves to '[^']*elsewhere/'"), output); // the whole build log on failure
        Assert.False(Directory.Exists(elsewhere), output);
    }

    [Fact]
    public void Build_EngineMissing_FailsWithEngineNotFound()
    {
        WriteProject($"""<CompressModel Include="{CopyWeights()}" Architecture="resnet18-cifar" WidthMultiplier="0.0625" />""");

        var (exit, output) = Build("-p:CompressEnginePath=" + Path.Combine(_temp.Path, "nowhere", "compress.dll"));

        Assert.Equal(1, exit);
        Assert.True(System.Text.RegularExpressions.Regex.IsMatch(output, @"error CMP0604: .*nowhere/compress\.dll"), output); // the whole build log on failure
    }

    [Fact]
    public void Build_CudaOnMachineWithoutCuda_FailsForCudaAndFallsBackToCpuForAuto()
    {
        CopyWeights();
        _temp.File("app/gpu.json", TinySpec("gpu", "cuda"));
        _temp.File("app/auto.json", TinySpec("auto", "auto"));
        WriteProject("""<CompressModel Include="gpu.json" />""");

        var (exit, output) = Build();

        Assert.Equal(1, exit);
        Assert.True(System.Text.RegularExpressions.Regex.IsMatch(output, @"error CMP0003: "), output); // the whole build log on failure
        Assert.False(File.Exists(Path.Combine(Bin, "gpu.onnx")), output);

        WriteProject("""<CompressModel Include="auto.json" />""");
        (exit, output) = Build();

        Assert.True(exit == 0, output);
        Assert.True(System.Text.RegularExpressions.Regex.IsMatch(output, @"warning CMP0003: "), output); // the whole build log on failure
        Assert.True(new FileInfo(Path.Combine(Bin, "auto.onnx")).Length > 1000, output);
        Assert.True(File.Exists(Path.Combine(Bin, "auto.report.json")), output);
    }

    [Fact]
    public void Engine_NativeDirectoryWithOnnxRuntime_LoadsThatCopy()
    {
        // What CompressOnnxRuntime=gpu sets up, with the CPU build standing in for the GPU one (same file names).
        var native = Path.Combine(_temp.Path, "native");
        Directory.CreateDirectory(native);
        var shipped = Path.Combine(Path.GetDirectoryName(EnginePath)!, "runtimes", "linux-x64", "native");
        foreach (var file in Directory.GetFiles(shipped, "libonnxruntime*"))
        {
            File.Copy(file, Path.Combine(native, Path.GetFileName(file)));
        }
        CopyWeights();

        var (exit, output) = DotnetCli.Run(App, new Dictionary<string, string> { ["COMPRESS_NATIVE_DIR"] = native },
            EnginePath, "export", "--model", "resnet18-cifar", "-w", "0.0625", "--weights", "w.safetensors", "--output", "w.onnx");

        Assert.True(exit == 0, output);
        Assert.Contains("ONNX Runtime native library: " + Path.Combine(native, "libonnxruntime.so"), output, StringComparison.Ordinal);
        Assert.Contains("ONNX Runtime parity", output, StringComparison.Ordinal);
    }

    private static string TinySpec(string name, string device) => $$"""
        {
          "name": "{{name}}",
          "model": { "architecture": "resnet18-cifar", "widthMultiplier": 0.0625, "classes": 10 },
          "weights": "w.safetensors",
          "data": "synthetic",
          "syntheticTrain": 64,
          "syntheticTest": 32,
          "pruneRate": "knee",
          "fineTuneEpochs": 0,
          "device": "{{device}}"
        }
        """;

    private string CopyWeights()
    {
        Assert.True(_weights.ExitCode == 0, _weights.Output);
        Directory.CreateDirectory(App);
        File.Copy(_weights.Path, Path.Combine(App, "w.safetensors"), overwrite: true);
        return "w.safetensors";
    }

    private void WriteProject(string items) => ConsumerProject.Write(_temp, EnginePath, items);

    private (int ExitCode, string Output) Build(params string[] extra) =>
        DotnetCli.Run(App, ["build", "-nologo", "-nodeReuse:false", "-p:UseSharedCompilation=false", .. extra]);
}

using System.Text;
using System.Text.Json;
using Compress.Engine.Benchmark;
using Compress.Engine.Data;
using Compress.Engine.Diagnostics;
using Compress.Engine.Tests.Data;
using Google.Protobuf;

namespace Compress.Engine.Tests.Benchmark;

public class OrtClassifierTests
{
    [Fact]
    public void Load_TinyModel_ReadsShapeClassesSizeParametersAndMacs()
    {
        using var dir = new TempDirectory();
        var proto = TinyOnnx.Build(seed: 1);
        string path = TinyOnnx.Write(dir.Combine("tiny.onnx"), proto);
        using var model = OrtClassifier.Load(path);
        Assert.Equal(new ImageShape(3, 32, 32), model.InputShape);
        Assert.Equal(10, model.Classes);
        Assert.Null(model.FixedBatch);
        Assert.Equal("input", model.InputName);
        Assert.Equal("logits", model.OutputName);
        Assert.Equal(new FileInfo(path).Length, model.FileBytes);
        long initializerElements = proto.Graph.Initializer.Sum(t => t.Dims.Aggregate(1L, (a, b) => a * b));
        Assert.Equal(initializerElements, model.Parameters);
        Assert.Equal((4 * 3 * 3 * 3) + 4 + (10 * 4) + 10, model.Parameters);
        // Conv: 4 output channels x 32x32 positions x 3x3x3; Gemm: 4 x 10.
        Assert.Equal((4L * 32 * 32 * 27) + 4 + (4 * 10), model.Macs); // conv, average pool, Gemm
        Assert.Equal(OrtDeviceKind.Cpu, model.Device);
    }

    [Fact]
    public void Runner_PyTorchExportedCnn_LogitsMatchPyTorchAndMacsMatchHooks()
    {
        using var reference = JsonDocument.Parse(File.ReadAllText(RepoPaths.Fixture("ort-small-cnn", "reference.json")));
        var input = reference.RootElement.GetProperty("input").EnumerateArray().Select(e => e.GetSingle()).ToArray();
        var expected = reference.RootElement.GetProperty("logits").EnumerateArray().Select(e => e.GetSingle()).ToArray();
        using var model = OrtClassifier.Load(RepoPaths.Fixture("ort-small-cnn", "ort-small-cnn.onnx"));
        Assert.Equal(reference.RootElement.GetProperty("macs").GetInt64(), model.Macs);
        using var runner = model.CreateRunner(2);
        input.CopyTo(runner.Input);
        runner.Run();
        Assert.Equal(expected.Length, runner.Output.Length);
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], runner.Output[i], 4);
    }

    [Fact]
    public void Runner_TimedLoop_AllocatesNoManagedMemory()
    {
        using var dir = new TempDirectory();
        using var model = OrtClassifier.Load(TinyOnnx.Write(dir.Combine("tiny.onnx")));
        using var runner = model.CreateRunner(4);
        for (int i = 0; i < 3; i++) runner.Run();
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 50; i++) runner.Run();
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void Accuracy_PaddedLastBatch_EqualsImageByImageSessionRuns()
    {
        using var dir = new TempDirectory();
        string path = TinyOnnx.Write(dir.Combine("tiny.onnx"), TinyOnnx.Build(seed: 5));
        var data = TinySetup.Data;
        var normalization = Normalization.FromDataset(data.Train);
        using var model = OrtClassifier.Load(path);
        // 160 test images in batches of 48: the last batch holds 16 images and 32 rows of padding.
        double batched = model.Accuracy(data.Test, normalization, batchSize: 48);
        double reference = OrtTestData.AccuracyImageByImage(path, data.Test, normalization);
        Assert.Equal(reference, batched);
    }

    [Fact]
    public void Accuracy_FixedBatchModel_UsesItsBatchAndEqualsImageByImage()
    {
        using var dir = new TempDirectory();
        // Batch fixed at 3: 160 test images end in a batch of 1 image and 2 rows of padding.
        string fixedPath = TinyOnnx.Write(dir.Combine("fixed.onnx"), TinyOnnx.Build(seed: 5, fixedBatch: 3));
        string dynamicPath = TinyOnnx.Write(dir.Combine("dynamic.onnx"), TinyOnnx.Build(seed: 5));
        var data = TinySetup.Data;
        var normalization = Normalization.FromDataset(data.Train);
        using var model = OrtClassifier.Load(fixedPath);
        Assert.Equal(3, model.FixedBatch);
        double reference = OrtTestData.AccuracyImageByImage(dynamicPath, data.Test, normalization);
        Assert.Equal(reference, model.Accuracy(data.Test, normalization, batchSize: 32));
        var e = Assert.Throws<CompressException>(() => model.CreateRunner(32));
        Assert.Equal(DiagnosticCode.InvalidOnnxModel, e.Code);
        Assert.Contains("fixed at 3", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("random")]
    [InlineData("text")]
    [InlineData("truncated")]
    [InlineData("empty")]
    public void Load_NotAnOnnxFile_ThrowsCmp0504NamingTheFile(string kind)
    {
        using var dir = new TempDirectory();
        string path = dir.Combine(kind + ".onnx");
        byte[] bytes = kind switch
        {
            "random" => RandomBytes(4096),
            "text" => Encoding.UTF8.GetBytes("This is a README, not a model.\nLine two: 1, 2, 3.\n"),
            "truncated" => TinyOnnx.Build().ToByteArray()[..300],
            _ => [],
        };
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<CompressException>(() => OrtClassifier.Load(path));
        Assert.Equal(DiagnosticCode.InvalidOnnxModel, e.Code);
        Assert.Equal(path, e.FilePath);
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_MissingFile_ThrowsCmp0005()
    {
        var e = Assert.Throws<CompressException>(() => OrtClassifier.Load("/nonexistent/model.onnx"));
        Assert.Equal(DiagnosticCode.FileNotFound, e.Code);
        Assert.Contains("/nonexistent/model.onnx", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_OutputIsNotLogits_ThrowsCmp0504WithTheReason()
    {
        // Cut the graph after GlobalAveragePool: output [batch, 4, 1, 1] is not [N, classes].
        var proto = TinyOnnx.Build();
        proto.Graph.Node.RemoveAt(4);
        proto.Graph.Node.RemoveAt(3);
        proto.Graph.Output.Clear();
        proto.Graph.Output.Add(TinyOnnx.Value("pool", "batch", 4, 1, 1));
        using var dir = new TempDirectory();
        string path = TinyOnnx.Write(dir.Combine("features.onnx"), proto);
        var e = Assert.Throws<CompressException>(() => OrtClassifier.Load(path));
        Assert.Equal(DiagnosticCode.InvalidOnnxModel, e.Code);
        Assert.Contains("output 'pool'", e.Message, StringComparison.Ordinal);
        Assert.Contains("[N, classes]", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_Cuda_WarnsCmp0505AndRunsOnCpu()
    {
        using var dir = new TempDirectory();
        string path = TinyOnnx.Write(dir.Combine("tiny.onnx"));
        var sink = new CollectingSink();
        using var model = OrtClassifier.Load(path, new OrtSessionSettings { Device = OrtDeviceKind.Cuda }, sink);
        // This machine has no GPU and the test build uses the CPU-only package.
        Assert.Equal(OrtDeviceKind.Cpu, model.Device);
        var warning = Assert.Single(sink.Diagnostics);
        Assert.Equal(DiagnosticCode.OrtCudaUnavailable, warning.Code);
        Assert.Equal(DiagnosticSeverity.Warning, warning.Severity);
        using var runner = model.CreateRunner(1);
        runner.Run();
        Assert.All(runner.Output.ToArray(), v => Assert.True(float.IsFinite(v)));
    }

    [Fact]
    public void Load_CudaWithModelOrtRejects_ThrowsCmp0504WithoutCudaWarning()
    {
        // Valid protobuf, but an operator ONNX does not define: ONNX Runtime refuses it on any device.
        var proto = TinyOnnx.Build();
        proto.Graph.Node[1].OpType = "Frobnicate";
        using var dir = new TempDirectory();
        string path = TinyOnnx.Write(dir.Combine("unknown-op.onnx"), proto);
        var sink = new CollectingSink();
        var e = Assert.Throws<CompressException>(() =>
            OrtClassifier.Load(path, new OrtSessionSettings { Device = OrtDeviceKind.Cuda }, sink));
        Assert.Equal(DiagnosticCode.InvalidOnnxModel, e.Code);
        Assert.Contains("Frobnicate", e.Message, StringComparison.Ordinal);
        Assert.Empty(sink.Diagnostics);
    }

    private static byte[] RandomBytes(int count)
    {
        var bytes = new byte[count];
        new Random(11).NextBytes(bytes);
        return bytes;
    }
}

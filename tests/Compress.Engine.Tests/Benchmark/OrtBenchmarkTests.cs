using Compress.Engine.Benchmark;
using Compress.Engine.Data;
using Compress.Engine.Diagnostics;
using Compress.Engine.Tests.Data;

namespace Compress.Engine.Tests.Benchmark;

public class OrtBenchmarkTests
{
    private static OrtBenchmarkOptions Small(string model, string? baseline = null) => new()
    {
        Model = model,
        Baseline = baseline,
        Data = TinySetup.SmallData,
        BatchSizes = [1, 4, 16],
        Warmup = 2,
        Runs = 12,
    };

    [Fact]
    public void Run_TinyModel_PositiveLatencyThroughputPerBatchAndIndependentAccuracy()
    {
        using var dir = new TempDirectory();
        string path = TinyOnnx.Write(dir.Combine("tiny.onnx"), TinyOnnx.Build(seed: 2));
        var sink = new CollectingSink();
        var result = OrtBenchmark.Run(Small(path), sink);

        Assert.True(result.LatencyMs.P50 > 0);
        Assert.True(result.LatencyMs.P50 <= result.LatencyMs.P90 && result.LatencyMs.P90 <= result.LatencyMs.P99);
        Assert.Equal([1, 4, 16], result.Throughput.Keys.Order());
        Assert.All(result.Throughput.Values, t => Assert.True(t > 0 && double.IsFinite(t)));
        var data = TinySetup.Data;
        double reference = OrtTestData.AccuracyImageByImage(path, data.Test, Normalization.FromDataset(data.Train));
        Assert.Equal(reference, result.Accuracy);
        Assert.Equal(new FileInfo(path).Length, result.FileBytes);
        Assert.Equal(162, result.Parameters);
        Assert.Equal("cpu", result.Device);
        Assert.Equal("all", result.Optimization);
        Assert.Null(result.Baseline);
        Assert.Null(result.Ratio);
        Assert.DoesNotContain(sink.Diagnostics, d => d.Severity == DiagnosticSeverity.Error);
    }

    [Fact]
    public void Run_BaselineIsTheSameModel_SizeRatioOneAndNoAccuracyDifference()
    {
        using var dir = new TempDirectory();
        string path = TinyOnnx.Write(dir.Combine("tiny.onnx"));
        var result = OrtBenchmark.Run(Small(path, baseline: path), DiagnosticSinks.None);
        Assert.NotNull(result.Baseline);
        Assert.NotNull(result.Ratio);
        Assert.Equal(1.0, result.Ratio.Size);
        Assert.Equal(1.0, result.Ratio.Parameters);
        Assert.Equal(0.0, result.Ratio.AccuracyDifference);
        Assert.Equal(result.Accuracy, result.Baseline.Accuracy);
        // The speedup is the median of the rounds' paired ratios (each round ran both, back to back): near 1 for one model twice.
        Assert.InRange(result.Ratio.Speedup, 0.5, 2);
        Assert.Equal(result.LatencyMs.Runs, result.Baseline.LatencyMs.Runs);
        Assert.Equal([1, 4, 16], result.Ratio.Throughput.Keys.Order());
        foreach (var (batch, ratio) in result.Ratio.Throughput)
            Assert.Equal(result.Throughput[batch] / result.Baseline.Throughput[batch], ratio, 12);
    }

    [Fact]
    public void Run_SmallerCandidate_RatiosFavourIt()
    {
        using var dir = new TempDirectory();
        string big = TinyOnnx.Write(dir.Combine("big.onnx"), TinyOnnx.Build(hidden: 32));
        string small = TinyOnnx.Write(dir.Combine("small.onnx"), TinyOnnx.Build(hidden: 4));
        var options = Small(small, baseline: big) with { MeasureAccuracy = false };
        var result = OrtBenchmark.Run(options, DiagnosticSinks.None);
        Assert.Null(result.Accuracy);
        Assert.Null(result.Ratio!.AccuracyDifference);
        Assert.Equal((double)new FileInfo(big).Length / new FileInfo(small).Length, result.Ratio.Size, 12);
        // 32 hidden: 32*27 + 32 + 10*32 + 10 = 1226 parameters; 4 hidden: 162.
        Assert.Equal(1226.0 / 162, result.Ratio.Parameters, 12);
    }

    [Fact]
    public void Run_Cuda_WarnsCmp0505AndReportsCpuResults()
    {
        using var dir = new TempDirectory();
        string path = TinyOnnx.Write(dir.Combine("tiny.onnx"));
        var sink = new CollectingSink();
        var options = Small(path) with { Session = new OrtSessionSettings { Device = OrtDeviceKind.Cuda }, MeasureAccuracy = false };
        var result = OrtBenchmark.Run(options, sink);
        Assert.Equal("cpu", result.Device);
        Assert.Contains(sink.Diagnostics, d => d.Code == DiagnosticCode.OrtCudaUnavailable && d.Severity == DiagnosticSeverity.Warning);
        Assert.True(result.LatencyMs.P50 > 0);
    }

    [Fact]
    public void Run_MissingBaseline_ThrowsCmp0005()
    {
        using var dir = new TempDirectory();
        string path = TinyOnnx.Write(dir.Combine("tiny.onnx"));
        var e = Assert.Throws<CompressException>(() =>
            OrtBenchmark.Run(Small(path, baseline: dir.Combine("absent.onnx")), DiagnosticSinks.None));
        Assert.Equal(DiagnosticCode.FileNotFound, e.Code);
        Assert.Contains("absent.onnx", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_DataDoesNotFitModel_ThrowsCmp0205()
    {
        using var dir = new TempDirectory();
        string path = TinyOnnx.Write(dir.Combine("mnist-shaped.onnx"), TinyOnnx.Build(channels: 1, height: 28, width: 28));
        var e = Assert.Throws<CompressException>(() => OrtBenchmark.Run(Small(path), DiagnosticSinks.None));
        Assert.Equal(DiagnosticCode.DatasetModelMismatch, e.Code);
    }

    [Fact]
    public void Run_FixedBatchModelWithOtherBatches_ThrowsCmp0504BeforeTiming()
    {
        using var dir = new TempDirectory();
        string path = TinyOnnx.Write(dir.Combine("fixed.onnx"), TinyOnnx.Build(fixedBatch: 1));
        var sink = new CollectingSink();
        var e = Assert.Throws<CompressException>(() => OrtBenchmark.Run(Small(path), sink));
        Assert.Equal(DiagnosticCode.InvalidOnnxModel, e.Code);
        Assert.Contains("cannot run batches of 4", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(sink.ProgressLines, l => l.StartsWith("Timing", StringComparison.Ordinal));
    }

    [Fact]
    public void Run_FixedBatchOneModelAtBatchOne_Works()
    {
        using var dir = new TempDirectory();
        string path = TinyOnnx.Write(dir.Combine("fixed.onnx"), TinyOnnx.Build(fixedBatch: 1));
        var result = OrtBenchmark.Run(Small(path) with { BatchSizes = [1] }, DiagnosticSinks.None);
        Assert.Equal([1], result.Throughput.Keys);
        Assert.NotNull(result.Accuracy);
    }

    [Theory]
    [InlineData(0, 10)]
    [InlineData(1, -1)]
    public void Run_InvalidRunsOrWarmup_ThrowsCmp0001(int runs, int warmup)
    {
        var options = new OrtBenchmarkOptions { Model = "x.onnx", Runs = runs, Warmup = warmup };
        var e = Assert.Throws<CompressException>(() => OrtBenchmark.Run(options, DiagnosticSinks.None));
        Assert.Equal(DiagnosticCode.InvalidOption, e.Code);
    }

    [Fact]
    public void RunsFor_LargerBatches_GetFewerRuns()
    {
        var options = new OrtBenchmarkOptions { Model = "x.onnx", Runs = 100 };
        Assert.Equal(100, options.RunsFor(1));
        Assert.Equal(100, options.RunsFor(4));
        Assert.Equal(13, options.RunsFor(32));   // ceil(400 / 32)
        Assert.Equal(3, options.RunsFor(1000));
    }

    [Fact]
    public void PairedSpeedup_IsTheMedianOfTheRoundsRatios()
    {
        // Rounds 2/1, 4/2, 9/3: a load spike in one round moves one ratio, not the median.
        Assert.Equal(2.0, OrtBenchmark.PairedSpeedup([2, 4, 9], [1, 2, 3]));
        Assert.Equal(1.5, OrtBenchmark.PairedSpeedup([1, 2], [1, 1]));
        Assert.True(double.IsNaN(OrtBenchmark.PairedSpeedup([], [])));
    }
}

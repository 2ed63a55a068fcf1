using Compress.Engine.Benchmark;
using Compress.Engine.Diagnostics;
using Compress.Engine.Models;
using static TorchSharp.torch;

namespace Compress.Engine.Tests.Benchmark;

public sealed class TorchLatencyTests
{
    private static ClassifierModel TinyLeNet()
    {
        manual_seed(0);
        return ModelFactory.Create(new ModelOptions { Architecture = "lenet5", WidthMultiplier = 0.25 });
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Measure_TinyLeNet_OrderedPositivePercentilesAndTrainingModeRestored(bool training)
    {
        using var model = TinyLeNet();
        model.train(training);

        var stats = TorchLatency.Measure(model, new TorchLatencyOptions { Warmup = 1, Runs = 7 });

        Assert.True(stats.P50 > 0);
        Assert.True(stats.P50 <= stats.P90 && stats.P90 <= stats.P99);
        Assert.Equal(training, model.training);
        Assert.All(model.parameters(), p => Assert.Null(p.grad));
    }

    [Theory]
    [InlineData(1, 0)]
    [InlineData(-1, 5)]
    public void Measure_NoRunsOrNegativeWarmup_ThrowsCmp0001(int warmup, int runs)
    {
        using var model = TinyLeNet();

        var e = Assert.Throws<CompressException>(() =>
            TorchLatency.Measure(model, new TorchLatencyOptions { Warmup = warmup, Runs = runs }));

        Assert.Equal(DiagnosticCode.InvalidOption, e.Code);
    }

    [Fact]
    public void Measure_Cancelled_ThrowsBeforeTiming()
    {
        using var model = TinyLeNet();
        using var cts = new CancellationTokenSource();
        cts.Cancel();

        Assert.Throws<OperationCanceledException>(() => TorchLatency.Measure(model, new TorchLatencyOptions(), cts.Token));
        Assert.True(model.training);
    }
}

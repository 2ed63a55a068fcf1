using Compress.Engine.Data;
using Compress.Engine.Diagnostics;
using Compress.Engine.Models;
using Compress.Engine.Pipeline;
using Compress.Engine.Pruning;
using Compress.Engine.Training;
using static TorchSharp.torch;

namespace Compress.Engine.Tests.Training;

public class MemoryFormatTests
{
    private static readonly TrainingOptions Quick = TinySetup.QuickTraining;

    /// <summary>resnet18-cifar at width 0.25: its narrowest strided 1x1 convolution has 16 input channels, so
    /// channels-last is allowed (the width-1/16 test model's 4 are not, CMP0404).</summary>
    private static readonly ModelOptions Wide = new() { Architecture = "resnet18-cifar", WidthMultiplier = 0.25 };

    private static (Dictionary<string, float[]> Weights, bool AllContiguous) TrainOnce(MemoryFormat format, int seed = 3, PruningMask? mask = null,
        TrainingOptions? options = null)
    {
        using var model = ModelLoader.Create(Wide, null, CPU, seed);
        var data = TinySetup.Data;
        new Trainer(model, CPU).Train(data.Train, Normalization.FromDataset(data.Train), (options ?? Quick) with { Seed = seed, MemoryFormat = format }, mask);
        return (TinySetup.Weights(model), model.parameters().All(p => p.is_contiguous()));
    }

    [Theory]
    [InlineData(MemoryFormat.Nchw)]
    [InlineData(MemoryFormat.ChannelsLast)]
    public void Train_SameSeedTwicePerFormat_BitwiseIdenticalAndHandedBackContiguous(MemoryFormat format)
    {
        var a = TrainOnce(format);
        var b = TrainOnce(format);
        Assert.True(a.AllContiguous && b.AllContiguous);
        Assert.Equal(a.Weights.Keys, b.Weights.Keys);
        foreach (var key in a.Weights.Keys) Assert.Equal(a.Weights[key], b.Weights[key]);
    }

    [Fact]
    public void Train_ChannelsLastAgainstNchw_SameStepUpToFloat32Noise()
    {
        // One step on the whole split (320 images). In float64 the two layouts' gradients agree to 1e-14 (bench
        // channels-last-check --model); in float32 libtorch's channels-last kernels round differently and a few ReLU
        // inputs near 0 flip, so early layers' updates differ by up to a few percent of the step (the table in
        // docs/benchmarks.md), never by the step itself, as a wrong gradient would.
        var oneStep = Quick with { BatchSize = TinySetup.Data.Train.Count };
        var nchw = TrainOnce(MemoryFormat.Nchw, options: oneStep).Weights;
        var last = TrainOnce(MemoryFormat.ChannelsLast, options: oneStep).Weights;
        var initial = TrainOnce(MemoryFormat.Nchw, options: oneStep with { Epochs = 0 }).Weights;
        foreach (var (key, values) in nchw)
        {
            double difference = 0, step = 0;
            for (int i = 0; i < values.Length; i++)
            {
                difference = Math.Max(difference, Math.Abs(values[i] - last[key][i]));
                step = Math.Max(step, Math.Abs(values[i] - initial[key][i]));
            }
            Assert.True(step > 0, $"{key} did not move");
            Assert.True(difference < 0.1 * step, $"{key}: the layouts differ by {difference}, the step is {step}");
        }
    }

    [Fact]
    public void Train_ChannelsLastWithMask_PrunedWeightsExactlyZeroAndKeptOnesLearn()
    {
        using var model = ModelLoader.Create(Wide, null, CPU, 1);
        using var mask = GlobalMagnitudePruner.Compute(model, 0.6);
        var before = TinySetup.Weights(model);
        var data = TinySetup.Data;
        new Trainer(model, CPU).Train(data.Train, Normalization.FromDataset(data.Train), Quick with { MemoryFormat = MemoryFormat.ChannelsLast }, mask);
        long pruned = 0, keptChanged = 0;
        foreach (var (name, p) in model.named_parameters())
        {
            Assert.True(p.is_contiguous(), name);
            var values = p.data<float>().ToArray();
            var keep = mask.Masks[name].data<bool>().ToArray();
            for (int i = 0; i < values.Length; i++)
            {
                if (!keep[i])
                {
                    Assert.Equal(0f, values[i]);
                    Assert.False(float.IsNegative(values[i]), $"{name}[{i}] is -0.0");
                    pruned++;
                }
                else if (values[i] != before[name][i]) keptChanged++;
            }
        }
        Assert.Equal(mask.PrunedCount, pruned);
        Assert.True(keptChanged > 0);
    }

    [Fact]
    public void Train_ChannelsLastDiverges_WeightsStillHandedBackContiguous()
    {
        using var model = ModelLoader.Create(Wide, null, CPU, 0);
        var data = TinySetup.Data;
        var options = Quick with { MemoryFormat = MemoryFormat.ChannelsLast, Sgd = new SgdOptions { LearningRate = 1e30, Momentum = 0.9 } };
        var e = Assert.Throws<CompressException>(() => new Trainer(model, CPU).Train(data.Train, Normalization.FromDataset(data.Train), options));
        Assert.Equal(DiagnosticCode.TrainingDiverged, e.Code);
        Assert.All(model.parameters(), p => Assert.True(p.is_contiguous()));
    }

    [Fact]
    public void Train_ReportsTheMemoryFormatAndWhy()
    {
        using var model = ModelLoader.Create(TinySetup.TinyResNet, null, CPU, 0);
        var data = TinySetup.Data;
        var sink = new CollectingSink();
        new Trainer(model, CPU, sink).Train(data.Train, Normalization.FromDataset(data.Train), Quick with { Epochs = 1 }, phase: "fine-tune");
        Assert.Contains(sink.ProgressLines, l => l.StartsWith("fine-tune: memory format NCHW (auto: the convolutions average", StringComparison.Ordinal));
    }

    [Fact]
    public void Train_ChannelsLastAskedForANarrowStridedPointwiseConv_WarnsCmp0404AndTrainsNchw()
    {
        // Width 1/16: layer2.0.downsample.0 is a 1x1 stride-2 convolution with 4 input channels, whose channels-last
        // weight gradient oneDNN gets wrong (or hangs on): the run must be the NCHW one, bit for bit.
        var data = TinySetup.Data;
        var sink = new CollectingSink();
        using var asked = ModelLoader.Create(TinySetup.TinyResNet, null, CPU, 3);
        new Trainer(asked, CPU, sink).Train(data.Train, Normalization.FromDataset(data.Train), Quick with { Seed = 3, MemoryFormat = MemoryFormat.ChannelsLast });
        var warning = Assert.Single(sink.Diagnostics, d => d.Code == DiagnosticCode.ChannelsLastUnsafe);
        Assert.Contains("'layer2.0.downsample.0' is a 1x1 convolution (stride 2) with 4 input channels", warning.Message, StringComparison.Ordinal);
        using var nchw = ModelLoader.Create(TinySetup.TinyResNet, null, CPU, 3);
        new Trainer(nchw, CPU).Train(data.Train, Normalization.FromDataset(data.Train), Quick with { Seed = 3, MemoryFormat = MemoryFormat.Nchw });
        var a = TinySetup.Weights(asked);
        var b = TinySetup.Weights(nchw);
        foreach (var key in a.Keys) Assert.Equal(b[key], a[key]);
    }

    [Fact]
    public void UnsafeLayer_ModelWithoutAGraph_AnyNarrowPointwiseWeightCounts()
    {
        using var narrow = nn.Sequential(nn.Conv2d(8, 32, 1, stride: 2));
        Assert.Contains("1x1 convolution (stride unknown) with 8 input channels", ChannelsLastLayout.UnsafeLayer(narrow), StringComparison.Ordinal);
        using var wide = nn.Sequential(nn.Conv2d(16, 32, 1, stride: 2), nn.Conv2d(32, 3, 3));
        Assert.Null(ChannelsLastLayout.UnsafeLayer(wide));
        Assert.False(ChannelsLastLayout.Decide(narrow, MemoryFormat.ChannelsLast).ChannelsLast);
        Assert.True(ChannelsLastLayout.Decide(wide, MemoryFormat.ChannelsLast).ChannelsLast);
    }

    [Theory]
    [InlineData(0.0625, false)]
    [InlineData(0.125, false)]
    [InlineData(0.25, true)]
    [InlineData(1.0, true)]
    public void Decide_Auto_ChannelsLastFromWidth025OfResNet18(double width, bool expected)
    {
        // The measured crossover (docs/benchmarks.md, issue 16): 0.86x at width 0.125, 1.17x at 0.25, 1.14x at 1.
        using var model = ModelFactory.Create(new ModelOptions { Architecture = "resnet18-cifar", WidthMultiplier = width });
        var (channelsLast, why, _) = ChannelsLastLayout.Decide(model, MemoryFormat.Auto);
        Assert.Equal(expected, channelsLast);
        Assert.Contains("auto", why, StringComparison.Ordinal);
        Assert.Equal(expected, ChannelsLastLayout.MeanChannels(model) >= ChannelsLastLayout.MinimumMeanChannels);
    }

    [Fact]
    public void Decide_ExplicitChoiceWinsAndAModelWithoutAGraphStaysNchw()
    {
        using var model = ModelFactory.Create(Wide);
        Assert.True(ChannelsLastLayout.Decide(model, MemoryFormat.ChannelsLast).ChannelsLast);
        Assert.False(ChannelsLastLayout.Decide(model, MemoryFormat.Nchw).ChannelsLast);
        using var plain = nn.Sequential(nn.Conv2d(3, 512, 3), nn.Flatten());
        Assert.False(ChannelsLastLayout.Decide(plain, MemoryFormat.Auto).ChannelsLast);
    }

    [Fact]
    public void Of_SameShapeAndValuesWithChannelsInnermost()
    {
        using var x = arange(2 * 3 * 4 * 5, dtype: ScalarType.Float32).reshape(2, 3, 4, 5);
        using var y = ChannelsLastLayout.Of(x);
        Assert.Equal(x.shape, y.shape);
        Assert.Equal(new long[] { 60, 1, 15, 3 }, y.stride());
        Assert.True(ChannelsLastLayout.IsChannelsLast(y));
        Assert.False(ChannelsLastLayout.IsChannelsLast(x));
        Assert.True(x.eq(y).all().item<bool>());
        Assert.Throws<ArgumentException>(() => ChannelsLastLayout.Of(ones(3, 4)));
    }

    [Fact]
    public void ToChannelsLastAndBack_SameParameterObjectsAndValues()
    {
        using var model = ModelFactory.Create(new ModelOptions { Architecture = "resnet18-cifar", WidthMultiplier = 0.0625 });
        var parameters = model.parameters().ToList();
        var before = TinySetup.Weights(model);
        ChannelsLastLayout.ToChannelsLast(model);
        Assert.All(parameters.Where(p => p.dim() == 4), p => Assert.True(ChannelsLastLayout.IsChannelsLast(p)));
        Assert.Equal(parameters, model.parameters().ToList());
        ChannelsLastLayout.ToContiguous(model);
        Assert.All(parameters, p => Assert.True(p.is_contiguous()));
        var after = TinySetup.Weights(model);
        foreach (var (key, values) in before) Assert.Equal(values, after[key]);
    }

    [Fact]
    public void BatchLoader_ChannelsLast_SameValuesChannelsInnermost()
    {
        var data = TinySetup.Data.Train;
        var options = new LoaderOptions { BatchSize = 16, Shuffle = true, Augment = true, Seed = 5 };
        using var planar = new BatchLoader(data, options, CPU);
        using var last = new BatchLoader(data, options with { ChannelsLast = true }, CPU);
        foreach (var (a, b) in planar.Epoch(1).Zip(last.Epoch(1)))
        {
            using (a)
            using (b)
            {
                Assert.True(ChannelsLastLayout.IsChannelsLast(b.Images));
                Assert.True(a.Images.is_contiguous());
                Assert.True(a.Images.eq(b.Images).all().item<bool>());
                Assert.True(a.Labels.eq(b.Labels).all().item<bool>());
            }
        }
    }
}

using Compress.Engine.Data;
using Compress.Engine.Diagnostics;
using Compress.Engine.Pipeline;
using Compress.Engine.Pruning;
using Compress.Engine.Training;
using static TorchSharp.torch;

namespace Compress.Engine.Tests.Training;

public class PrecisionTests
{
    private static readonly TrainingOptions Quick = TinySetup.QuickTraining with { Precision = TrainingPrecision.BFloat16 };

    private static Dictionary<string, float[]> TrainOnce(TrainingOptions options, int seed = 3)
    {
        using var model = ModelLoader.Create(TinySetup.TinyResNet, null, CPU, seed);
        var data = TinySetup.Data;
        new Trainer(model, CPU).Train(data.Train, Normalization.FromDataset(data.Train), options with { Seed = seed });
        Assert.All(model.parameters(), p => Assert.Equal(ScalarType.Float32, p.dtype));
        Assert.All(model.parameters(), p => Assert.True(p.grad is null || p.grad.dtype == ScalarType.Float32));
        return TinySetup.Weights(model);
    }

    [Fact]
    public void Train_BFloat16SameSeedTwice_BitwiseIdenticalFloat32Weights()
    {
        var a = TrainOnce(Quick);
        var b = TrainOnce(Quick);
        foreach (var key in a.Keys) Assert.Equal(a[key], b[key]);
    }

    [Fact]
    public void Train_BFloat16AgainstFloat32_UpdatePointsTheSameWay()
    {
        // One step on the whole split. bfloat16 keeps 8 significant bits, and the gradients of BatchNorm's scales are
        // sums with much cancellation, so single tensors' updates can differ from float32's by as much as the update; the
        // update as a whole points the same way (cosine near 1), where a wrong or missing gradient would not.
        var oneStep = Quick with { BatchSize = TinySetup.Data.Train.Count };
        var mixed = TrainOnce(oneStep);
        var exact = TrainOnce(oneStep with { Precision = TrainingPrecision.Float32 });
        var initial = TrainOnce(oneStep with { Epochs = 0 });
        double dot = 0, exactNorm = 0, mixedNorm = 0;
        foreach (var (key, values) in exact)
            for (int i = 0; i < values.Length; i++)
            {
                double e = values[i] - initial[key][i], m = mixed[key][i] - initial[key][i];
                dot += e * m;
                exactNorm += e * e;
                mixedNorm += m * m;
            }
        double cosine = dot / Math.Sqrt(exactNorm * mixedNorm);
        Assert.True(cosine > 0.95, $"cosine of the bfloat16 and float32 updates {cosine}");
        Assert.True(Math.Abs(Math.Sqrt(mixedNorm / exactNorm) - 1) < 0.1, $"update length ratio {Math.Sqrt(mixedNorm / exactNorm)}");
        Assert.NotEqual(exact["conv1.weight"], mixed["conv1.weight"]);
    }

    [Fact]
    public void Train_BFloat16WithMask_PrunedWeightsExactlyZeroAndMastersKeepFloat32Updates()
    {
        using var model = ModelLoader.Create(TinySetup.TinyResNet, null, CPU, 1);
        using var mask = GlobalMagnitudePruner.Compute(model, 0.6);
        var before = TinySetup.Weights(model);
        var data = TinySetup.Data;
        new Trainer(model, CPU).Train(data.Train, Normalization.FromDataset(data.Train), Quick, mask);
        long pruned = 0, keptChanged = 0, notBFloat16 = 0;
        foreach (var (name, p) in model.named_parameters())
        {
            Assert.Equal(ScalarType.Float32, p.dtype);
            var values = p.data<float>().ToArray();
            var keep = mask.Masks[name].data<bool>().ToArray();
            for (int i = 0; i < values.Length; i++)
            {
                if (!keep[i])
                {
                    Assert.Equal(0f, values[i]);
                    pruned++;
                    continue;
                }
                if (values[i] != before[name][i]) keptChanged++;
                // A float32 master updated by small steps does not stay on the bfloat16 grid (low 16 bits zero).
                if ((BitConverter.SingleToInt32Bits(values[i]) & 0xFFFF) != 0) notBFloat16++;
            }
        }
        Assert.Equal(mask.PrunedCount, pruned);
        Assert.True(keptChanged > 0);
        Assert.True(notBFloat16 > keptChanged / 2, $"{notBFloat16} of {keptChanged} kept weights are off the bfloat16 grid");
    }

    [Fact]
    public void Train_BFloat16_ReportsThePrecision()
    {
        using var model = ModelLoader.Create(TinySetup.TinyResNet, null, CPU, 0);
        var data = TinySetup.Data;
        var sink = new CollectingSink();
        new Trainer(model, CPU, sink).Train(data.Train, Normalization.FromDataset(data.Train), Quick with { BatchSize = 160 }, phase: "fine-tune");
        Assert.Contains(sink.ProgressLines, l => l.StartsWith("fine-tune: memory format", StringComparison.Ordinal)
            && l.Contains("precision bfloat16 (convolutions and linear layers; float32 master weights", StringComparison.Ordinal));
    }

    [Fact]
    public void Train_BFloat16OnAModelWithoutAGraph_Cmp0401()
    {
        using var plain = nn.Sequential(nn.Conv2d(3, 4, 3), nn.Flatten(), nn.Linear(4 * 30 * 30, 10));
        var data = TinySetup.Data;
        var e = Assert.Throws<CompressException>(() => new Trainer(plain, CPU).Train(data.Train, Normalization.FromDataset(data.Train), Quick));
        Assert.Equal(DiagnosticCode.InvalidTrainingOption, e.Code);
    }

    [Fact]
    public void Validate_BFloat16WithDecorrelation_Cmp0401()
    {
        var e = Assert.Throws<CompressException>((Quick with { Decorrelation = 0.1 }).Validate);
        Assert.Equal(DiagnosticCode.InvalidTrainingOption, e.Code);
        Assert.Contains("bfloat16", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Names_RoundTrip()
    {
        foreach (string name in PruningNames.Precisions)
            Assert.Equal(name, PruningNames.NameOf(PruningNames.Precision(name.ToUpperInvariant())!.Value));
        Assert.Null(PruningNames.Precision("fp16"));
        foreach (string name in PruningNames.MemoryFormats)
            Assert.Equal(name, PruningNames.NameOf(PruningNames.MemoryFormat(name)!.Value));
        Assert.Null(PruningNames.MemoryFormat("nhwc"));
    }
}

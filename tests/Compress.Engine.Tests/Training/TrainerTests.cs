using Compress.Engine.Data;
using Compress.Engine.Diagnostics;
using Compress.Engine.Pipeline;
using Compress.Engine.Pruning;
using Compress.Engine.Training;
using static TorchSharp.torch;

namespace Compress.Engine.Tests.Training;

public class TrainerTests
{
    private static readonly TrainingOptions Quick = TinySetup.QuickTraining;

    private static Dictionary<string, float[]> TrainOnce(int seed, TrainingOptions options, PruningMask? mask = null)
    {
        using var model = ModelLoader.Create(TinySetup.TinyResNet, null, CPU, seed);
        var data = TinySetup.Data;
        new Trainer(model, CPU).Train(data.Train, Normalization.FromDataset(data.Train), options with { Seed = seed }, mask);
        return TinySetup.Weights(model);
    }

    [Fact]
    public void Train_SameSeedTwice_BitwiseIdenticalWeights()
    {
        var a = TrainOnce(3, Quick);
        var b = TrainOnce(3, Quick);
        Assert.Equal(a.Keys, b.Keys);
        foreach (var key in a.Keys) Assert.Equal(a[key], b[key]);
        var c = TrainOnce(4, Quick);
        Assert.Contains(a.Keys, k => !a[k].AsSpan().SequenceEqual(c[k]));
    }

    [Fact]
    public void Train_WithMask_PrunedWeightsAreExactlyZeroAfterEveryStepAndKeptOnesLearn()
    {
        using var model = ModelLoader.Create(TinySetup.TinyResNet, null, CPU, 1);
        using var mask = GlobalMagnitudePruner.Compute(model, 0.6);
        var before = TinySetup.Weights(model);
        var data = TinySetup.Data;
        new Trainer(model, CPU).Train(data.Train, Normalization.FromDataset(data.Train), Quick, mask);
        long pruned = 0, keptChanged = 0;
        foreach (var (name, p) in model.named_parameters())
        {
            var values = p.data<float>().ToArray();
            var keep = mask.Masks[name].data<bool>().ToArray();
            for (int i = 0; i < values.Length; i++)
            {
                if (!keep[i])
                {
                    Assert.Equal(0f, values[i]);
                    pruned++;
                }
                else if (values[i] != before[name][i]) keptChanged++;
            }
        }
        Assert.Equal(mask.PrunedCount, pruned);
        Assert.True(keptChanged > 0);
    }

    [Fact]
    public void Train_ThreeEpochs_LiveTensorCountStaysFlat()
    {
        using var model = ModelLoader.Create(TinySetup.TinyResNet, null, CPU, 2);
        var data = TinySetup.Data;
        var norm = Normalization.FromDataset(data.Train);
        var trainer = new Trainer(model, CPU);
        trainer.Train(data.Train, norm, Quick); // warm-up: optimizer state, caches
        long afterOne = Tensor.TotalCount;
        trainer.Train(data.Train, norm, Quick with { Epochs = 3 });
        // Every batch allocates dozens of tensors (10 batches x 3 epochs here): a leak of even one per batch shows.
        Assert.True(Tensor.TotalCount <= afterOne, $"live tensors grew from {afterOne} to {Tensor.TotalCount}");
    }

    [Fact]
    public void LiveTensorCount_LoopWithoutDisposeScope_Grows()
    {
        // The measure used above does detect a leaking loop.
        long before = Tensor.TotalCount;
        var leaked = new List<Tensor>();
        for (int i = 0; i < 30; i++) leaked.Add(ones(2) + 1);
        Assert.True(Tensor.TotalCount - before >= 30);
        leaked.ForEach(t => t.Dispose());
    }

    [Theory]
    [InlineData(-1, 32, 0.1, 0.9)]
    [InlineData(1, 0, 0.1, 0.9)]
    [InlineData(1, 32, 0.0, 0.9)]
    [InlineData(1, 32, double.NaN, 0.9)]
    [InlineData(1, 32, 0.1, 1.0)]
    public void Validate_InvalidOption_ThrowsCmp0401(int epochs, int batch, double lr, double momentum)
    {
        var options = new TrainingOptions { Epochs = epochs, BatchSize = batch, Sgd = new SgdOptions { LearningRate = lr, Momentum = momentum } };
        var e = Assert.Throws<CompressException>(options.Validate);
        Assert.Equal(DiagnosticCode.InvalidTrainingOption, e.Code);
    }

    [Theory]
    [InlineData("train", "(--lr)")]
    [InlineData("fine-tune", "(--finetune-lr;")]
    public void Train_HugeLearningRate_ThrowsDivergedCmp0402NamingThePhasesLearningRate(string phase, string option)
    {
        using var model = ModelLoader.Create(TinySetup.TinyResNet, null, CPU, 0);
        var data = TinySetup.Data;
        var options = Quick with { Sgd = new SgdOptions { LearningRate = 1e30, Momentum = 0.9 } };
        var e = Assert.Throws<CompressException>(() =>
            new Trainer(model, CPU).Train(data.Train, Normalization.FromDataset(data.Train), options, phase: phase));
        Assert.Equal(DiagnosticCode.TrainingDiverged, e.Code);
        Assert.Contains(phase + " epoch 1", e.Message, StringComparison.Ordinal);
        Assert.Contains(option, e.Hint, StringComparison.Ordinal);
    }

    [Fact]
    public void Train_ReportsProgressWithImagesPerSecondAndEta()
    {
        using var model = ModelLoader.Create(TinySetup.TinyResNet, null, CPU, 0);
        var data = TinySetup.Data;
        var sink = new CollectingSink();
        var result = new Trainer(model, CPU, sink).Train(data.Train, Normalization.FromDataset(data.Train), Quick);
        Assert.Single(result.Epochs);
        Assert.True(result.Epochs[0].ImagesPerSecond > 0);
        Assert.Contains(sink.ProgressLines, l => l.Contains("img/s", StringComparison.Ordinal) && l.Contains("ETA", StringComparison.Ordinal)
            && l.Contains("[10/10]", StringComparison.Ordinal));
    }

    [Fact]
    public void CosineRate_StartMiddleEnd_FollowsHalfCosine()
    {
        Assert.Equal(0.1, Trainer.CosineRate(0.1, 0, 100), 12);
        Assert.Equal(0.05, Trainer.CosineRate(0.1, 50, 100), 12);
        Assert.Equal(0.0, Trainer.CosineRate(0.1, 100, 100), 12);
    }

    [Fact]
    public void ScheduledRate_WarmupThenCosine_RisesLinearlyThenAnneals()
    {
        var o = new TrainingOptions { WarmupSteps = 10, CosineSchedule = true, Sgd = new SgdOptions { LearningRate = 0.1 } };
        Assert.Equal(0.01, Trainer.ScheduledRate(o, 0, 100), 12);
        Assert.Equal(0.05, Trainer.ScheduledRate(o, 4, 100), 12);
        Assert.Equal(Trainer.CosineRate(0.1, 10, 100), Trainer.ScheduledRate(o, 10, 100), 12);
        Assert.Equal(0.1, Trainer.ScheduledRate(o with { CosineSchedule = false }, 50, 100), 12);
    }

    [Fact]
    public void PaperFineTune_MatchesThePaper()
    {
        var o = TrainingOptions.PaperFineTune;
        Assert.Equal((1, 256, 0.001, 0.9), (o.Epochs, o.BatchSize, o.Sgd.LearningRate, o.Sgd.Momentum));
    }
}

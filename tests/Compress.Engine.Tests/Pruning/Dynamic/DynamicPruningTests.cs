using Compress.Engine.Models;
using Compress.Engine.Pruning.Dynamic;
using Compress.Engine.Pruning.Unstructured;
using Compress.Engine.Training;
using static TorchSharp.torch;

namespace Compress.Engine.Tests.Pruning.Dynamic;

public class DynamicPruningTests
{
    [Fact]
    public void SparsityAt_FollowsTheCubicRampToTheTargetAtTheRampEnd()
    {
        using var model = ModelFactory.Create(TinySetup.TinyResNet);
        using var dpf = new DynamicPruning(model, 0.8, maskInterval: 16, rampEnd: 0.75);
        Assert.Equal(0, dpf.SparsityAt(0, 100), 12);
        Assert.Equal(0.8 * (1 - Math.Pow(1 - (30 / 75.0), 3)), dpf.SparsityAt(30, 100), 12); // 40% of the ramp
        Assert.Equal(0.8, dpf.SparsityAt(75, 100), 12);
        Assert.Equal(0.8, dpf.SparsityAt(99, 100), 12);
    }

    [Fact]
    public void Train_MasksWeightsThatComeBackAndEndsAtTheTargetWithMaskedWeights()
    {
        manual_seed(0);
        using var model = ModelFactory.Create(TinySetup.TinyResNet);
        using var dpf = new DynamicPruning(model, 0.8, maskInterval: 2, rampEnd: 0.75);
        new Trainer(model, CPU).Train(TinySetup.Data.Train, Compress.Engine.Data.Normalization.FromDataset(TinySetup.Data.Train),
            new TrainingOptions { Epochs = 2, BatchSize = 32, Sgd = new SgdOptions { LearningRate = 0.05, Momentum = 0.9 } },
            null, "train", dpf);

        // The ramp rises to the target; the mask changed its mind along the way (pruned weights kept learning).
        var sparsities = dpf.Updates.Select(u => u.Sparsity).ToList();
        Assert.True(sparsities.Zip(sparsities.Skip(1), (a, b) => b >= a - 1e-12).All(x => x));
        Assert.Equal(0.8, sparsities[^1], 12);
        Assert.Contains(dpf.Updates, u => u.Revived > 0);

        // The result is m (.) W: exactly the mask's entries are zero in scope.
        var scope = UnstructuredPruner.ScopeOf(model, includeClassifier: false);
        long total = 0, zeros = 0;
        foreach (var (name, p) in model.named_parameters().Where(p => scope.Contains(p.name)))
        {
            total += p.numel();
            zeros += p.eq(0).sum().item<long>();
        }
        Assert.Equal(dpf.Mask!.PrunedCount, Math.Round(0.8 * total, MidpointRounding.ToEven));
        Assert.True(zeros >= dpf.Mask.PrunedCount);
    }
}

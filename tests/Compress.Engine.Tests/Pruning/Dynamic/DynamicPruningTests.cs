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
        using var dpf = new UnstructuredDynamicPruning(model, new DynamicPruningOptions { Target = 0.8, MaskInterval = 16, RampEnd = 0.75 });
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
        using var dpf = new UnstructuredDynamicPruning(model, new DynamicPruningOptions { Target = 0.8, MaskInterval = 2, RampEnd = 0.75 });
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

public class FilterDynamicPruningTests
{
    private static readonly Compress.Engine.Data.Normalization Norm = Compress.Engine.Data.Normalization.FromDataset(TinySetup.Data.Train);

    private static ClassifierModel TrainedWithFilterMasks(double target, out FilterDynamicPruning dpf, double decorrelation = 0)
    {
        manual_seed(0);
        var model = ModelFactory.Create(TinySetup.TinyResNet);
        dpf = new FilterDynamicPruning(model, new DynamicPruningOptions { Target = target, MaskInterval = 2, RampEnd = 0.75 });
        new Trainer(model, CPU).Train(TinySetup.Data.Train, Norm,
            new TrainingOptions { Epochs = 2, BatchSize = 32, Sgd = new SgdOptions { LearningRate = 0.05, Momentum = 0.9, WeightDecay = 5e-4 }, Decorrelation = decorrelation },
            null, "train", dpf);
        return model;
    }

    [Fact]
    public void Train_MasksTheTargetFractionOfPrunableFilters_WithTheirBiasesAndNorms()
    {
        using var model = TrainedWithFilterMasks(0.5, out var dpf);
        using var _ = dpf;
        Assert.Equal(Math.Round(0.5 * dpf.Units, MidpointRounding.ToEven), dpf.MaskedUnits);
        Assert.Equal(0.5, dpf.Updates[^1].Sparsity, 12);
        Assert.Equal(2, dpf.Epochs.Count);

        // Every channel the plan drops is exactly zero in every producer filter and every norm of its group, so the
        // residual-coupled channels of a stage are masked together.
        var state = model.named_parameters().ToDictionary(p => p.name, p => (Tensor)p.parameter);
        var plan = dpf.Plan();
        int checkedChannels = 0;
        foreach (var group in plan.Where(g => g.Group.IsPrunable && g.ChannelsAfter < g.ChannelsBefore))
        {
            var dropped = Enumerable.Range(0, group.ChannelsBefore).Except(group.KeptIndices).ToList();
            foreach (int c in dropped)
            {
                foreach (string producer in group.Group.Producers)
                    Assert.Equal(0, state[producer + ".weight"][c].abs().sum().item<float>());
                foreach (string norm in group.Group.BatchNorms)
                {
                    Assert.Equal(0, state[norm + ".weight"][c].item<float>());
                    Assert.Equal(0, state[norm + ".bias"][c].item<float>());
                }
                checkedChannels++;
            }
        }
        Assert.Equal(dpf.MaskedUnits, checkedChannels);
        Assert.Contains(plan, g => g.Group.Producers.Count > 1 && g.ChannelsAfter < g.ChannelsBefore); // a residual group was pruned
    }

    [Fact]
    public void Importance_IsTheMeanAbsoluteFilterWeightAveragedOverTheGroupsProducers()
    {
        manual_seed(1);
        using var model = ModelFactory.Create(TinySetup.TinyResNet);
        using var dpf = new FilterDynamicPruning(model, new DynamicPruningOptions { Target = 0.3 });
        var importance = dpf.Importance();
        var state = model.named_parameters().ToDictionary(p => p.name, p => (Tensor)p.parameter);
        var group = dpf.Groups.First(g => g.Producers.Count > 1);
        for (int c = 0; c < group.Channels; c++)
        {
            double expected = group.Producers.Average(p => state[p + ".weight"][c].abs().mean().to(ScalarType.Float64).item<double>());
            Assert.Equal(expected, importance[group.Id][c], 6);
        }
    }

    [Fact]
    public void Hook_ForwardSeesMaskedWeights_AndTheOptimizerTheDenseOnes()
    {
        manual_seed(2);
        using var model = ModelFactory.Create(TinySetup.TinyResNet);
        using var dpf = new FilterDynamicPruning(model, new DynamicPruningOptions { Target = 0.5, RampEnd = 0.01 });
        dpf.BeforeForward(99, 100); // past the ramp: the full target
        Assert.True(dpf.MaskedUnits > 0);
        var pruned = dpf.Plan().First(g => g.ChannelsAfter < g.ChannelsBefore);
        int channel = Enumerable.Range(0, pruned.ChannelsBefore).Except(pruned.KeptIndices).First();
        var weight = model.named_parameters().Single(p => p.name == pruned.Group.Producers[0] + ".weight").parameter;
        Assert.Equal(0, weight[channel].abs().sum().item<float>());
        dpf.BeforeOptimizerStep();
        using var dense = weight.detach().clone();
        Assert.True(dense[channel].abs().sum().item<float>() > 0, "the dense weights are back before the optimizer step");
        dpf.BeforeForward(100, 100);
        Assert.Equal(0, weight[channel].abs().sum().item<float>());
        dpf.BeforeOptimizerStep();
        Assert.True(weight.detach().eq(dense).all().item<bool>(), "the dense weights are back before the optimizer step");
    }

    [Fact]
    public void Compact_GivesASmallerModelWithTheSameOutputs_AndASmallerFasterOnnx()
    {
        using var model = TrainedWithFilterMasks(0.5, out var dpf);
        using var _ = dpf;
        using var compacted = dpf.Compact();
        Assert.True(compacted.ParametersAfter < compacted.ParametersBefore * 0.6, $"{compacted.ParametersBefore} -> {compacted.ParametersAfter}");
        model.eval();
        compacted.Model.eval();
        using var noGrad = no_grad();
        using var images = randn(8, 3, 32, 32, generator: new Generator(0, CPU));
        using var before = model.forward(images);
        using var after = compacted.Model.forward(images);
        Assert.True(before.allclose(after, rtol: 1e-4, atol: 1e-5), $"max difference {(before - after).abs().max().item<float>()}");

        var dense = Compress.Engine.Export.OnnxExporter.Export(model, new Compress.Engine.Export.OnnxExportOptions { FoldBatchNorm = true });
        var small = Compress.Engine.Export.OnnxExporter.Export(compacted.Model, new Compress.Engine.Export.OnnxExportOptions { FoldBatchNorm = true });
        long macsBefore = Compress.Engine.Benchmark.OnnxGraphStats.CountMacs(dense)!.Value, macsAfter = Compress.Engine.Benchmark.OnnxGraphStats.CountMacs(small)!.Value;
        Assert.True(macsAfter < 0.8 * macsBefore, $"MACs {macsBefore} -> {macsAfter}");
    }

    [Fact]
    public void NormalizedRanking_DoesNotEmptyTheLayersWithSmallWeights_AsTheRawRankingDoes()
    {
        // At initialisation a layer's weights scale with 1/sqrt(fan-in): the deep, wide layers have the smallest mean |w|.
        double SmallestKeptShare(FilterRanking ranking)
        {
            manual_seed(4);
            using var model = ModelFactory.Create(TinySetup.TinyResNet);
            using var dpf = new FilterDynamicPruning(model, new DynamicPruningOptions { Target = 0.5, FilterRanking = ranking });
            dpf.PruneOnce();
            Assert.Equal(Math.Round(0.5 * dpf.Units, MidpointRounding.ToEven), dpf.MaskedUnits);
            return dpf.Plan().Where(g => g.Group.IsPrunable).Min(g => (double)g.ChannelsAfter / g.ChannelsBefore);
        }
        double raw = SmallestKeptShare(FilterRanking.Raw), normalized = SmallestKeptShare(FilterRanking.Normalized);
        Assert.True(normalized > 2 * raw, $"smallest share of channels kept in a group: raw {raw}, normalized {normalized}");
        Assert.True(normalized >= 0.2, $"normalized {normalized}");
    }

    [Fact]
    public void RoundTo_KeepsAMultipleOfItInEveryGroup_AndStillCompactsExactly()
    {
        manual_seed(5);
        using var model = ModelFactory.Create(TinySetup.TinyResNet);
        using var dpf = new FilterDynamicPruning(model, new DynamicPruningOptions { Target = 0.5, RoundTo = 4 });
        dpf.PruneOnce();
        var plan = dpf.Plan().Where(g => g.Group.IsPrunable).ToList();
        Assert.All(plan, g => Assert.True(g.ChannelsAfter % 4 == 0 || g.ChannelsAfter == g.ChannelsBefore, $"{g.ChannelsAfter} of {g.ChannelsBefore}"));
        Assert.Contains(plan, g => g.ChannelsAfter < g.ChannelsBefore);
        Assert.Equal(plan.Sum(g => (long)(g.ChannelsBefore - g.ChannelsAfter)), dpf.MaskedUnits);
        model.eval();
        using var compacted = dpf.Compact();
        compacted.Model.eval();
        using var noGrad = no_grad();
        using var images = randn(4, 3, 32, 32, generator: new Generator(1, CPU));
        using var before = model.forward(images);
        using var after = compacted.Model.forward(images);
        Assert.True(before.allclose(after, rtol: 1e-4, atol: 1e-5));
    }

    [Fact]
    public void Options_OutOfRange_AreCoded()
    {
        using var model = ModelFactory.Create(TinySetup.TinyResNet);
        foreach (var bad in new[]
                 {
                     new DynamicPruningOptions { Target = 1 }, new DynamicPruningOptions { Target = double.NaN },
                     new DynamicPruningOptions { MaskInterval = 0 }, new DynamicPruningOptions { RampEnd = 0 },
                     new DynamicPruningOptions { RoundTo = 0 },
                 })
        {
            var e = Assert.Throws<Compress.Engine.Diagnostics.CompressException>(() => DynamicPruning.Create(model, bad with { Variant = DynamicPruningVariant.Filter }));
            Assert.Equal(Compress.Engine.Diagnostics.DiagnosticCode.InvalidDynamicPruningOption, e.Code);
        }
    }
}

public class DynamicPruningDecorrelationTests
{
    [Fact]
    public void Regulariser_IsComputedOnTheDenseWeights_SoMaskedFiltersStillMove()
    {
        // No weight decay: a masked filter gets no gradient from the loss (its norm's scale is masked), so only the
        // regulariser, computed on the dense weights, can move it.
        double Moved(double alpha)
        {
            manual_seed(3);
            using var model = ModelFactory.Create(TinySetup.TinyResNet);
            using var dpf = new FilterDynamicPruning(model, new DynamicPruningOptions { Target = 0.5, RampEnd = 0.01, MaskInterval = 1000 });
            var norm = Compress.Engine.Data.Normalization.FromDataset(TinySetup.Data.Train);
            var options = new TrainingOptions { Epochs = 1, BatchSize = 64, Sgd = new SgdOptions { LearningRate = 0.05, Momentum = 0, WeightDecay = 0 }, Decorrelation = alpha };
            // First step masks at the full target (ramp end 1% of training); record the masked filters' dense weights then.
            dpf.BeforeForward(99, 100);
            var plan = dpf.Plan().First(g => g.ChannelsAfter < g.ChannelsBefore);
            int channel = Enumerable.Range(0, plan.ChannelsBefore).Except(plan.KeptIndices).First();
            var weight = model.named_parameters().Single(p => p.name == plan.Group.Producers[0] + ".weight").parameter;
            dpf.BeforeOptimizerStep();
            using var before = weight[channel].detach().clone();
            new Trainer(model, CPU).Train(TinySetup.Data.Train, norm, options, null, "train", new FrozenMask(dpf));
            return (weight[channel].detach() - before).abs().max().item<float>();
        }
        Assert.Equal(0, Moved(0));
        Assert.True(Moved(1) > 0, "the regulariser's gradient reaches the masked filter's dense weights");
    }

    /// <summary>Delegates to a dynamic pruning hook whose mask is already at the target, without ever updating it (the
    /// steps it sees are past the ramp), and leaves the dense weights in place at the end.</summary>
    private sealed class FrozenMask(DynamicPruning inner) : ITrainingHook
    {
        public void BeforeForward(long step, long totalSteps) => inner.BeforeForward(99, 100);

        public void BeforeOptimizerStep() => inner.BeforeOptimizerStep();

        public void AfterTraining()
        {
            // Left dense, so the test reads the dense weights.
        }
    }
}

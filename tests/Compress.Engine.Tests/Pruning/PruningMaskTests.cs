using Compress.Engine.Pruning;
using Compress.Engine.Tests.Analysis;
using TorchSharp;
using static TorchSharp.torch;

namespace Compress.Engine.Tests.Pruning;

public class PruningMaskTests
{
    [Fact]
    public void Apply_AfterWeightsMoved_PrunedEntriesArePositiveZeroAndKeptEntriesBitIdentical()
    {
        using var model = AnalysisTestModels.RandomConvNet(21);
        using var mask = GlobalMagnitudePruner.Compute(model, 0.6);
        var pruned = GlobalMagnitudePrunerTests.PrunedFlags(model, mask);
        // Move every weight as an optimizer step would, including negative values (mul by zero would leave -0.0).
        using (torch.no_grad())
        {
            foreach (var (_, p) in model.named_parameters()) p.mul_(-1.5).add_(-0.01);
        }
        var before = AnalysisTestModels.Flatten(model);

        mask.Apply(model);

        var after = AnalysisTestModels.Flatten(model);
        Assert.Equal(before.Length, after.Length);
        for (int i = 0; i < after.Length; i++)
        {
            uint expected = pruned[i] ? 0u : BitConverter.SingleToUInt32Bits(before[i]);
            Assert.Equal(expected, BitConverter.SingleToUInt32Bits(after[i]));
        }
        Assert.Equal(mask.PrunedCount, after.Count(v => v == 0f));
    }

    [Fact]
    public void Apply_Twice_IsIdempotentAndKeepsGradientsOff()
    {
        using var model = AnalysisTestModels.RandomConvNet(22);
        using var mask = GlobalMagnitudePruner.Compute(model, 0.3);

        mask.Apply(model);
        var once = AnalysisTestModels.Flatten(model);
        mask.Apply(model);

        Assert.Equal(once, AnalysisTestModels.Flatten(model));
        Assert.All(model.parameters(), p => Assert.True(p.requires_grad));
        Assert.All(model.parameters(), p => Assert.Null(p.grad));
    }

    [Fact]
    public void Constructor_HandMadeMasks_CountsPrunedEntries()
    {
        var masks = new Dictionary<string, Tensor>
        {
            ["a.weight"] = torch.tensor(new[] { true, false, false, true }).reshape(2, 2),
            ["a.bias"] = torch.tensor(new[] { false, true }),
        };

        using var mask = new PruningMask(masks);

        Assert.Equal(6, mask.TotalCount);
        Assert.Equal(3, mask.PrunedCount);
        Assert.Equal(0.5, mask.Sparsity);
    }

    [Fact]
    public void Apply_ModuleWithoutMaskedParameter_Throws()
    {
        using var model = nn.Sequential(("a", nn.Linear(2, 2)));
        using var mask = new PruningMask(new Dictionary<string, Tensor> { ["b.weight"] = torch.ones(2, 2, ScalarType.Bool) });

        var e = Assert.Throws<ArgumentException>(() => mask.Apply(model));

        Assert.Contains("b.weight", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Apply_ShapeMismatch_Throws()
    {
        using var model = nn.Sequential(("a", nn.Linear(2, 2)));
        using var mask = new PruningMask(new Dictionary<string, Tensor> { ["a.weight"] = torch.ones(3, 2, ScalarType.Bool) });

        var e = Assert.Throws<ArgumentException>(() => mask.Apply(model));

        Assert.Contains("a.weight", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_NonBoolMask_Throws()
    {
        var masks = new Dictionary<string, Tensor> { ["a.weight"] = torch.ones(2, 2) };

        Assert.Throws<ArgumentException>(() => new PruningMask(masks));
        masks["a.weight"].Dispose();
    }
}

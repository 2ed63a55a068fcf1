using Compress.Engine.Diagnostics;
using Compress.Engine.Pruning.FineGrained;

namespace Compress.Engine.Tests.Pruning.FineGrained;

public class SparsityProposalTests
{
    private static readonly double[] Grid = [0.4, 0.5, 0.6, 0.7, 0.8, 0.9];

    /// <summary>A hand-made scan on the default grid: per layer its size and its accuracy at 0.4..0.9.</summary>
    private static SensitivityResult Scan(double dense, long unscanned, params (string Name, long Count, double[] Accuracy)[] layers) => new()
    {
        DenseAccuracy = dense,
        DenseLoss = 1,
        Images = 1000,
        Sparsities = Grid,
        ModelParameterCount = unscanned + layers.Sum(l => l.Count),
        Layers = [.. layers.Select(l => new LayerSensitivity(l.Name, [l.Count], l.Count,
            [.. Grid.Select((s, i) => new SensitivityPoint(s, LayerwiseMagnitudePruner.ZeroCount(l.Count, s), l.Accuracy[i], 1))]))],
    };

    /// <summary>Three layers: a robust large one, a sensitive small one, and a medium one whose curve dips then recovers.</summary>
    private static SensitivityResult Typical() => Scan(90, 500,
        ("big", 100_000, [90, 90, 89.8, 89.5, 88, 80]),
        ("small", 1_000, [85, 80, 70, 60, 50, 40]),
        ("medium", 10_000, [89.9, 87, 89.9, 89.9, 89, 85]));

    private static long Kept(SensitivityResult scan, SparsityProposalResult p) =>
        scan.ModelParameterCount - p.Layers.Sum(l => LayerwiseMagnitudePruner.ZeroCount(l.ParameterCount, l.Sparsity));

    [Fact]
    public void Propose_NoTarget_TakesTheLastSparsityBeforeTheFirstDropBeyondTheBudget()
    {
        var p = SparsityProposal.Propose(Typical(), maxAccuracyDrop: 1.0);

        Assert.Equal(0.7, p.Sparsities["big"]);    // 88 at 0.8 is 2 points down
        Assert.Equal(0.0, p.Sparsities["small"]);  // already 5 points down at 0.4
        Assert.Equal(0.4, p.Sparsities["medium"]); // the dip at 0.5 stops it although 0.6 and 0.7 recover
        Assert.Null(p.TargetParameters);
        Assert.Null(p.TargetReached);
        Assert.All(p.Layers, l => Assert.False(l.RaisedForTarget));
        Assert.Equal(90.0, p.Layers[1].Accuracy);  // dense accuracy for an unpruned layer
        Assert.Equal(89.5, p.Layers[0].Accuracy);
        Assert.Equal(Kept(Typical(), p), p.KeptParameters);
        Assert.Equal(111_500 - 70_000 - 4_000, p.KeptParameters);
    }

    [Fact]
    public void Propose_LargerBudget_NeverLowersAnySparsity()
    {
        var scan = Typical();
        double[] drops = [0, 0.05, 0.1, 0.5, 1, 2, 3, 5, 10, 20, 30, 50, 100];
        var previous = SparsityProposal.Propose(scan, drops[0]);
        foreach (double drop in drops.Skip(1))
        {
            var next = SparsityProposal.Propose(scan, drop);
            for (int l = 0; l < scan.Layers.Count; l++) Assert.True(next.Layers[l].Sparsity >= previous.Layers[l].Sparsity, $"{scan.Layers[l].Name} at {drop}");
            Assert.True(next.KeptParameters <= previous.KeptParameters);
            previous = next;
        }
        Assert.All(previous.Layers, l => Assert.Equal(0.9, l.Sparsity));
    }

    [Fact]
    public void Propose_SizeFraction_MeetsTheTargetByRaisingTheLargeLayerFirst()
    {
        var scan = Typical();
        // Budget 1 point keeps 37,500 of 111,500; a target of 30 % (33,450) needs one more step, which the big layer gives.
        var p = SparsityProposal.Propose(scan, 1.0, targetSizeFraction: 0.3);

        Assert.Equal(33_450, p.TargetParameters);
        Assert.True(p.TargetReached);
        Assert.Null(p.Note);
        Assert.True(p.KeptParameters <= 33_450);
        Assert.Equal(Kept(scan, p), p.KeptParameters);
        Assert.Equal(0.8, p.Sparsities["big"]);
        Assert.True(p.Layers[0].RaisedForTarget);
        Assert.Equal(0.7, p.Layers[0].WithinDropSparsity);
        Assert.Equal(0.0, p.Sparsities["small"]);
        Assert.Equal(0.4, p.Sparsities["medium"]);
    }

    [Fact]
    public void Propose_EquallySensitiveLayers_PrunesTheLargerOneMore()
    {
        double[] fragile = [50, 40, 30, 20, 10, 0];
        var scan = Scan(90, 0, ("a", 2_000, fragile), ("b", 50_000, fragile), ("c", 8_000, fragile));

        var p = SparsityProposal.Propose(scan, 0.5, targetSizeFraction: 0.5);

        Assert.True(p.TargetReached);
        Assert.True(p.KeptParameters <= 30_000);
        Assert.True(p.Sparsities["b"] > p.Sparsities["c"] && p.Sparsities["c"] >= p.Sparsities["a"], string.Join(", ", p.Sparsities));
        Assert.Equal(0.0, p.Sparsities["a"]);
    }

    [Fact]
    public void Propose_SmallerTarget_NeverKeepsMore()
    {
        var scan = Typical();
        long previous = long.MaxValue;
        for (long target = scan.ModelParameterCount; target >= 0; target -= 2_500)
        {
            var p = SparsityProposal.Propose(scan, 0.5, targetParameters: target);
            Assert.True(p.KeptParameters <= previous, $"target {target}");
            Assert.Equal<bool?>(p.KeptParameters <= target, p.TargetReached);
            previous = p.KeptParameters;
        }
    }

    [Fact]
    public void Propose_UnreachableTarget_FlagsItWithEveryLayerAtTheScanMaximum()
    {
        var scan = Typical();
        var p = SparsityProposal.Propose(scan, 1.0, targetSizeFraction: 0.05);

        Assert.False(p.TargetReached);
        Assert.NotNull(p.Note);
        Assert.Contains("not reachable", p.Note, StringComparison.Ordinal);
        Assert.All(p.Layers, l => Assert.Equal(0.9, l.Sparsity));
        // 0.9 of each layer removed; the 500 unscanned parameters always stay.
        Assert.Equal(500 + 10_000 + 100 + 1_000, p.KeptParameters);
        Assert.True(p.KeptParameters > p.TargetParameters);
    }

    [Theory]
    [InlineData(-1.0, null, null)]
    [InlineData(double.NaN, null, null)]
    [InlineData(1.0, 10L, 0.5)]
    [InlineData(1.0, -1L, null)]
    [InlineData(1.0, null, 0.0)]
    [InlineData(1.0, null, 1.5)]
    public void Propose_InvalidOptions_ThrowsCmp0754(double drop, long? parameters, double? fraction)
    {
        var e = Assert.Throws<CompressException>(() => SparsityProposal.Propose(Typical(), drop, parameters, fraction));
        Assert.Equal(DiagnosticCode.InvalidSensitivityOption, e.Code);
    }
}

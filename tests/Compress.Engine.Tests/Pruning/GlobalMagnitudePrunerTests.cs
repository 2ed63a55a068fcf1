using Compress.Engine.Analysis;
using Compress.Engine.Diagnostics;
using Compress.Engine.Pruning;
using Compress.Engine.Tests.Analysis;
using TorchSharp;
using static TorchSharp.torch;

namespace Compress.Engine.Tests.Pruning;

public class GlobalMagnitudePrunerTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Compute_LeNet5AtFixtureRates_PrunesTheReferenceCountOfSmallestMagnitudes(bool float64)
    {
        using var model = AnalysisTestModels.LoadFixtureLeNet5();
        using var reference = AnalysisTestModels.LoadReference();
        var rates = reference.RootElement.GetProperty("rates").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        var counts = reference.RootElement.GetProperty("prunedCount").EnumerateArray().Select(e => e.GetInt64()).ToArray();
        var values = AnalysisTestModels.Flatten(model);
        if (float64) model.to(ScalarType.Float64);

        foreach (int i in new[] { 1, 37, 50, 79, 99 })
        {
            using var mask = GlobalMagnitudePruner.Compute(model, rates[i]);

            Assert.Equal(counts[i], mask.PrunedCount);
            Assert.Equal(values.Length, mask.TotalCount);
            Assert.Equal(ExpectedPruned(values, counts[i]), PrunedFlags(model, mask));
        }
    }

    [Theory]
    [InlineData(false, 0.30)]
    [InlineData(false, 0.55)]
    [InlineData(true, 0.55)]
    [InlineData(false, 0.95)]
    public void Compute_ManyEqualMagnitudes_PrunesLowestFlatIndicesFirst(bool float64, double rate)
    {
        // 40 entries: 10 of |w| = 0.25 scattered, 30 of |w| = 0.5 with both signs, spread over both tensors, so the cut
        // at 30 % (12 entries) and 55 % (22) falls inside the ties; 95 % (38) inside the ties of the last tensor.
        using var model = nn.Sequential(("a", nn.Linear(4, 5)), ("b", nn.Linear(3, 3, hasBias: false)), ("c", nn.Linear(2, 1)));
        var random = new Random(11);
        var values = new float[4 * 5 + 5 + 3 * 3 + 2 + 1];
        for (int i = 0; i < values.Length; i++) values[i] = (random.Next(2) == 0 ? -1 : 1) * (i % 4 == 1 ? 0.25f : 0.5f);
        AnalysisTestModels.SetParameters(model, values[..20], values[20..25], values[25..34], values[34..36], values[36..]);
        if (float64) model.to(ScalarType.Float64);
        long k = (long)Math.Round(rate * values.Length, MidpointRounding.ToEven);

        using var mask = GlobalMagnitudePruner.Compute(model, rate);

        Assert.Equal(k, mask.PrunedCount);
        var expected = ExpectedPruned(values, k);
        Assert.Equal(expected, PrunedFlags(model, mask));
        // Spot-check the rule itself: every pruned 0.5 comes before every kept 0.5.
        var halves = Enumerable.Range(0, values.Length).Where(i => Math.Abs(values[i]) == 0.5f).ToArray();
        var prunedHalves = halves.Where(i => expected[i]).ToArray();
        var keptHalves = halves.Where(i => !expected[i]).ToArray();
        Assert.NotEmpty(keptHalves);
        if (prunedHalves.Length > 0) Assert.True(prunedHalves.Max() < keptHalves.Min());
    }

    [Fact]
    public void Compute_ModuleAbove2Pow18Parameters_MatchesStableSortRule()
    {
        // Split across cores by the fast path; coarse values give long runs of ties across tensors and range cuts.
        using var model = nn.Sequential(("a", nn.Linear(700, 300)), ("b", nn.Linear(300, 400)));
        var random = new Random(8);
        var sizes = model.named_parameters().Select(p => (int)p.parameter.numel()).ToArray();
        var values = sizes.Select(n => Enumerable.Range(0, n).Select(_ => (random.Next(41) - 20) / 64f).ToArray()).ToArray();
        AnalysisTestModels.SetParameters(model, values);
        var flat = values.SelectMany(v => v).ToArray();

        foreach (double rate in new[] { 0.013, 0.5, 0.77 })
        {
            using var mask = GlobalMagnitudePruner.Compute(model, rate);

            long k = (long)Math.Round(rate * flat.Length, MidpointRounding.ToEven);
            Assert.Equal(k, mask.PrunedCount);
            Assert.Equal(ExpectedPruned(flat, k), PrunedFlags(model, mask));
        }
    }

    [Fact]
    public void Compute_RateZero_PrunesNothing()
    {
        using var model = AnalysisTestModels.RandomConvNet(3, zeroFraction: 0.2);

        using var mask = GlobalMagnitudePruner.Compute(model, 0.0);

        Assert.Equal(0, mask.PrunedCount);
        Assert.Equal(0.0, mask.Sparsity);
        Assert.All(PrunedFlags(model, mask), Assert.False);
    }

    [Fact]
    public void Compute_RateOne_PrunesEverything()
    {
        using var model = AnalysisTestModels.RandomConvNet(3);

        using var mask = GlobalMagnitudePruner.Compute(model, 1.0);

        Assert.Equal(mask.TotalCount, mask.PrunedCount);
        Assert.Equal(1.0, mask.Sparsity);
        Assert.All(PrunedFlags(model, mask), Assert.True);
    }

    [Theory]
    [InlineData(-0.01)]
    [InlineData(1.01)]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    public void Compute_RateOutsideUnitInterval_ThrowsInvalidRate(double rate)
    {
        using var model = AnalysisTestModels.RandomConvNet(3);

        var e = Assert.Throws<CompressException>(() => GlobalMagnitudePruner.Compute(model, rate));

        Assert.Equal(DiagnosticCode.InvalidRate, e.Code);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Compute_NaNWeight_ThrowsNonFiniteNamingTheTensor(bool float64)
    {
        using var model = AnalysisTestModels.RandomConvNet(3);
        if (float64) model.to(ScalarType.Float64);
        using (torch.no_grad()) model.named_parameters().First(p => p.name == "head.bias").parameter[2] = float.NaN;

        var e = Assert.Throws<CompressException>(() => GlobalMagnitudePruner.Compute(model, 0.5));

        Assert.Equal(DiagnosticCode.NonFiniteWeights, e.Code);
        Assert.Contains("head.bias", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Compute_AtEachCurveRate_KeptSumOfSquaresMatchesAnalysisCosine()
    {
        using var model = AnalysisTestModels.RandomConvNet(9, quantize: true);
        var analysis = PruneAnalyzer.Analyze(model);
        var values = AnalysisTestModels.Flatten(model);
        double total = values.Sum(v => (double)v * v);

        foreach (int i in new[] { 3, 25, 50, analysis.Knee.Index, 90 })
        {
            using var mask = GlobalMagnitudePruner.Compute(model, analysis.Rates[i]);
            var pruned = PrunedFlags(model, mask);
            double kept = values.Where((v, j) => !pruned[j]).Sum(v => (double)v * v);

            Assert.Equal(analysis.PrunedCounts[i], mask.PrunedCount);
            Assert.Equal(analysis.Cosine[i], Math.Sqrt(kept / total), 1e-12);
        }
    }

    /// <summary>Independent rule: stable sort by |w| (ties by flat index), the first k are pruned.</summary>
    internal static bool[] ExpectedPruned(float[] values, long k)
    {
        var order = Enumerable.Range(0, values.Length).OrderBy(i => Math.Abs(values[i])).ThenBy(i => i).ToArray();
        var pruned = new bool[values.Length];
        for (long j = 0; j < k; j++) pruned[order[j]] = true;
        return pruned;
    }

    /// <summary>The mask flattened in the module's parameter order, true = pruned.</summary>
    internal static bool[] PrunedFlags(nn.Module model, PruningMask mask)
    {
        var flags = new List<bool>();
        foreach (var (name, parameter) in model.named_parameters())
        {
            var m = mask.Masks[name];
            Assert.Equal(ScalarType.Bool, m.dtype);
            Assert.Equal(parameter.shape, m.shape);
            Assert.Equal(parameter.device_type, m.device_type);
            flags.AddRange(m.data<bool>().ToArray().Select(kept => !kept));
        }
        return [.. flags];
    }
}

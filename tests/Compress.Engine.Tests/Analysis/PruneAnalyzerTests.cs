using Compress.Engine.Analysis;
using Compress.Engine.Diagnostics;
using TorchSharp;
using static TorchSharp.torch;

namespace Compress.Engine.Tests.Analysis;

public class PruneAnalyzerTests
{
    [Theory]
    [InlineData(AnalysisBackend.Fast)]
    [InlineData(AnalysisBackend.Torch)]
    public void Analyze_LeNet5Fixture_MatchesPyTorchReference(AnalysisBackend backend)
    {
        using var model = AnalysisTestModels.LoadFixtureLeNet5();
        using var reference = AnalysisTestModels.LoadReference();
        var root = reference.RootElement;

        var result = PruneAnalyzer.Analyze(model, new AnalysisOptions { Backend = backend });

        Assert.Equal(backend, result.Backend);
        Assert.Equal(root.GetProperty("parameterCount").GetInt64(), result.ParameterCount);
        Assert.Equal(root.GetProperty("parameterOrder").EnumerateArray().Select(e => e.GetString()), result.ParameterNames);
        var rates = root.GetProperty("rates").EnumerateArray().Select(e => (float)e.GetDouble()).ToArray();
        Assert.Equal(rates.Select(BitConverter.SingleToUInt32Bits), result.Rates.Select(BitConverter.SingleToUInt32Bits));
        Assert.Equal(root.GetProperty("prunedCount").EnumerateArray().Select(e => e.GetInt64()), result.PrunedCounts);
        var cosine = root.GetProperty("cosineExactF64").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        Assert.Equal(cosine.Length, result.Cosine.Length);
        for (int i = 0; i < cosine.Length; i++) Assert.True(Math.Abs(cosine[i] - result.Cosine[i]) <= 1e-9, $"cosine[{i}]: {cosine[i]} vs {result.Cosine[i]}");

        var knee = root.GetProperty("knee");
        Assert.Equal(knee.GetProperty("index").GetInt32(), result.Knee.Index);
        Assert.Equal(knee.GetProperty("prune_rate").GetDouble(), result.Knee.Rate);
        Assert.Equal(knee.GetProperty("cosine").GetDouble(), result.Knee.Cosine, 1e-9);
        Assert.Equal(knee.GetProperty("distance_to_utopia").GetDouble(), result.Knee.Distance, 1e-9);

        var kurtoses = root.GetProperty("kurtosisPerTensor").EnumerateArray().ToArray();
        Assert.Equal(kurtoses.Length, result.Kurtoses.Count);
        for (int i = 0; i < kurtoses.Length; i++)
        {
            Assert.Equal(kurtoses[i].GetProperty("name").GetString(), result.Kurtoses[i].Name);
            Assert.Equal(kurtoses[i].GetProperty("numel").GetInt64(), result.Kurtoses[i].Count);
            Assert.Equal(kurtoses[i].GetProperty("kurtosis").GetDouble(), result.Kurtoses[i].Kurtosis, 1e-6);
        }
        Assert.Equal(root.GetProperty("kurtosisOfKurtoses").GetDouble(), result.KurtosisOfKurtoses, 1e-6);
        Assert.Equal(root.GetProperty("modifier").GetDouble(), result.Modifier, 1e-6);
        Assert.Equal(result.Modifier, result.RawModifier);
        Assert.Equal(root.GetProperty("safeRate").GetDouble(), result.SafeRate, 1e-6);
        Assert.False(result.Clamped);
        Assert.Empty(result.ExcludedTensors);
    }

    [Theory]
    [InlineData(1, false, 0.0)]
    [InlineData(2, true, 0.0)]
    [InlineData(3, true, 0.3)]
    [InlineData(4, false, 0.6)]
    public void Analyze_RandomModule_TorchBackendAgreesWithFastBackend(int seed, bool quantize, double zeros)
    {
        using var model = AnalysisTestModels.RandomConvNet(seed, quantize, zeros);

        var fast = PruneAnalyzer.Analyze(model, new AnalysisOptions { Backend = AnalysisBackend.Fast });
        var slow = PruneAnalyzer.Analyze(model, new AnalysisOptions { Backend = AnalysisBackend.Torch });

        Assert.Equal(AnalysisBackend.Fast, fast.Backend);
        Assert.Equal(AnalysisBackend.Torch, slow.Backend);
        for (int i = 0; i < fast.Cosine.Length; i++) Assert.True(Math.Abs(fast.Cosine[i] - slow.Cosine[i]) <= 1e-12, $"cosine[{i}]");
        Assert.Equal(slow.Knee.Index, fast.Knee.Index);
        Assert.Equal(slow.Kurtoses.Count, fast.Kurtoses.Count);
        for (int i = 0; i < fast.Kurtoses.Count; i++)
            Assert.True(Math.Abs(fast.Kurtoses[i].Kurtosis - slow.Kurtoses[i].Kurtosis) <= 1e-12 * fast.Kurtoses[i].Kurtosis, $"kurtosis[{i}]");
        Assert.Equal(slow.KurtosisOfKurtoses, fast.KurtosisOfKurtoses, 1e-12);
        Assert.Equal(slow.SafeRate, fast.SafeRate, 1e-12);
    }

    [Fact]
    public void Analyze_ModuleAbove2Pow18Parameters_SplitAcrossCoresMatchesTorchAndBruteForce()
    {
        // Large enough for the fast path to split the vector into its fixed ranges (ranges cut tensors in two).
        using var model = nn.Sequential(("a", nn.Linear(700, 300)), ("b", nn.Linear(300, 500)), ("c", nn.Linear(500, 10)));
        var random = new Random(5);
        var sizes = model.named_parameters().Select(p => (int)p.parameter.numel()).ToArray();
        var values = sizes.Select(n => Enumerable.Range(0, n)
            .Select(_ => random.Next(10) == 0 ? 0f : (float)Math.Round((random.NextDouble() - 0.5) * 400) / 1000f).ToArray()).ToArray();
        AnalysisTestModels.SetParameters(model, values);
        var flat = values.SelectMany(v => v).ToArray();
        Assert.True(flat.Length > 1 << 18);
        var squares = flat.Select(v => (double)v * v).Order().ToArray();
        var suffix = new double[squares.Length + 1];
        for (int i = squares.Length - 1; i >= 0; i--) suffix[i] = suffix[i + 1] + squares[i];

        var fast = PruneAnalyzer.Analyze(model);
        var slow = PruneAnalyzer.Analyze(model, new AnalysisOptions { Backend = AnalysisBackend.Torch });

        for (int i = 0; i < fast.Cosine.Length; i++)
        {
            long k = fast.PrunedCounts[i];
            double expected = k == 0 ? 1 : Math.Sqrt(suffix[k] / suffix[0]);
            Assert.True(Math.Abs(expected - fast.Cosine[i]) <= 1e-12, $"cosine[{i}]: {expected} vs {fast.Cosine[i]}");
            Assert.True(Math.Abs(slow.Cosine[i] - fast.Cosine[i]) <= 1e-12, $"torch cosine[{i}]");
        }
        for (int t = 0; t < fast.Kurtoses.Count; t++)
        {
            var x = values[t].Select(v => (double)v).ToArray();
            double mean = x.Average(), m2 = x.Average(v => Math.Pow(v - mean, 2)), m4 = x.Average(v => Math.Pow(v - mean, 4));
            Assert.Equal(m4 / (m2 * m2), fast.Kurtoses[t].Kurtosis, 1e-10);
            Assert.Equal(slow.Kurtoses[t].Kurtosis, fast.Kurtoses[t].Kurtosis, 1e-12);
        }
    }

    [Theory]
    [InlineData(ScalarType.Float16)]
    [InlineData(ScalarType.BFloat16)]
    public void Analyze_HalfPrecisionModule_FastBackendAgreesWithTorchBackend(ScalarType dtype)
    {
        using var model = AnalysisTestModels.RandomConvNet(12);
        model.to(dtype);

        var fast = PruneAnalyzer.Analyze(model);
        var slow = PruneAnalyzer.Analyze(model, new AnalysisOptions { Backend = AnalysisBackend.Torch });

        Assert.Equal(AnalysisBackend.Fast, fast.Backend);
        for (int i = 0; i < fast.Cosine.Length; i++) Assert.Equal(slow.Cosine[i], fast.Cosine[i], 1e-12);
        Assert.Equal(slow.KurtosisOfKurtoses, fast.KurtosisOfKurtoses, 1e-12);
        Assert.Equal(slow.Knee, fast.Knee with { Cosine = slow.Knee.Cosine, Distance = slow.Knee.Distance });
    }

    [Theory]
    [InlineData(5, false, 0.0)]
    [InlineData(6, true, 0.5)]
    public void Analyze_RandomModule_CosineEqualsBruteForceSortedSum(int seed, bool quantize, double zeros)
    {
        using var model = AnalysisTestModels.RandomConvNet(seed, quantize, zeros);
        var values = AnalysisTestModels.Flatten(model);
        // Independent reference: sort |w| ascending, drop the k smallest, sum the squares of the rest.
        var squares = values.Select(v => (double)v * v).Order().ToArray();
        double total = squares.Sum();

        var result = PruneAnalyzer.Analyze(model);

        Assert.Equal(values.Length, result.ParameterCount);
        for (int i = 0; i < result.Rates.Length; i++)
        {
            long k = result.PrunedCounts[i];
            Assert.Equal((long)Math.Round((double)result.Rates[i] * values.Length, MidpointRounding.ToEven), k);
            double kept = squares.Skip((int)k).Sum();
            double expected = k == 0 ? 1 : Math.Sqrt(kept / total);
            Assert.True(Math.Abs(expected - result.Cosine[i]) <= 1e-12, $"cosine[{i}]: {expected} vs {result.Cosine[i]}");
        }
    }

    [Fact]
    public void Analyze_UntrainedBatchNorm_WarnsAndExcludesZeroVarianceTensors()
    {
        using var model = nn.Sequential(("conv", nn.Conv2d(3, 8, 3)), ("bn", nn.BatchNorm2d(8)), ("fc", nn.Linear(8, 4)));
        var sink = new CollectingSink();

        var result = PruneAnalyzer.Analyze(model, sink: sink);

        Assert.Equal(["bn.weight", "bn.bias"], result.ExcludedTensors);
        Assert.Equal(["conv.weight", "conv.bias", "fc.weight", "fc.bias"], result.Kurtoses.Select(k => k.Name));
        var warning = Assert.Single(sink.Diagnostics, d => d.Code == DiagnosticCode.ZeroVarianceTensors);
        Assert.Equal(DiagnosticSeverity.Warning, warning.Severity);
        Assert.Contains("bn.weight", warning.Message, StringComparison.Ordinal);
        Assert.Contains("bn.bias", warning.Message, StringComparison.Ordinal);
        // BatchNorm running statistics are buffers, not part of the parameter vector.
        Assert.Equal(3 * 8 * 9 + 8 + 8 + 8 + 8 * 4 + 4, result.ParameterCount);
    }

    [Fact]
    public void Analyze_UntrainedBatchNormStrict_ThrowsZeroVariance()
    {
        using var model = nn.Sequential(("conv", nn.Conv2d(3, 8, 3)), ("bn", nn.BatchNorm2d(8)), ("fc", nn.Linear(8, 4)));

        var e = Assert.Throws<CompressException>(() => PruneAnalyzer.Analyze(model, new AnalysisOptions { Strict = true }));

        Assert.Equal(DiagnosticCode.ZeroVarianceTensors, e.Code);
        Assert.Contains("bn.weight", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Analyze_KurtosisOfKurtosesBelowTwo_ClampsSafeRateAndWarns()
    {
        // Pearson kurtoses by construction: {-1, 1} -> 1; {-1, 0, 0, 1} -> 2; {-1, 0, 0, 0, 0, 1} -> 3
        // (p at ±a, the rest 0: m2 = 2pa², m4 = 2pa⁴, kurtosis 1/(2p)). Their kurtosis: mean 2, deviations -1, 0, 1,
        // m2 = m4 = 2/3, so K = 1.5 < 2 and 1/log2(1.5) > 1.
        using var model = nn.Sequential(("a", nn.Linear(2, 1, hasBias: false)), ("b", nn.Linear(4, 1, hasBias: false)),
            ("c", nn.Linear(6, 1, hasBias: false)));
        AnalysisTestModels.SetParameters(model, [-1, 1], [-1, 0, 0, 1], [-1, 0, 0, 0, 0, 1]);
        var sink = new CollectingSink();

        var result = PruneAnalyzer.Analyze(model, sink: sink);

        Assert.Equal([1.0, 2.0, 3.0], result.Kurtoses.Select(k => k.Kurtosis).ToArray(), new ToleranceComparer(1e-12));
        Assert.Equal(1.5, result.KurtosisOfKurtoses, 1e-12);
        Assert.True(result.Clamped);
        Assert.Equal(1 / Math.Log2(1.5), result.RawModifier, 1e-12);
        Assert.Equal(result.Knee.Rate / Math.Log2(1.5), result.RawSafeRate, 1e-12);
        Assert.Equal(1.0, result.Modifier);
        Assert.Equal(result.Knee.Rate, result.SafeRate);
        var warning = Assert.Single(sink.Diagnostics);
        Assert.Equal(DiagnosticCode.SafeRateClamped, warning.Code);
        Assert.Equal(DiagnosticSeverity.Warning, warning.Severity);
    }

    [Fact]
    public void Analyze_TwoTensors_KurtosisOneClampsInsteadOfInfiniteRate()
    {
        // Any two values have Pearson kurtosis 1 (up to rounding): 1/log2(K) is infinite or huge, or negative when K
        // rounds below 1; the safe rate must still be the knee rate.
        using var model = nn.Sequential(("a", nn.Linear(8, 4)));
        var sink = new CollectingSink();

        var result = PruneAnalyzer.Analyze(model, sink: sink);

        Assert.Equal(1.0, result.KurtosisOfKurtoses, 1e-9);
        Assert.True(result.Clamped);
        Assert.Equal(result.Knee.Rate, result.SafeRate);
        Assert.Equal(DiagnosticCode.SafeRateClamped, Assert.Single(sink.Diagnostics).Code);
    }

    [Fact]
    public void Analyze_SingleTensor_ThrowsKurtosisUndefined()
    {
        using var model = nn.Sequential(("a", nn.Linear(8, 4, hasBias: false)));

        var e = Assert.Throws<CompressException>(() => PruneAnalyzer.Analyze(model));

        Assert.Equal(DiagnosticCode.KurtosisUndefined, e.Code);
    }

    [Theory]
    [InlineData(AnalysisBackend.Fast, float.NaN)]
    [InlineData(AnalysisBackend.Torch, float.NaN)]
    [InlineData(AnalysisBackend.Fast, float.PositiveInfinity)]
    [InlineData(AnalysisBackend.Torch, float.NegativeInfinity)]
    public void Analyze_NonFiniteWeight_ThrowsNamingTheTensor(AnalysisBackend backend, float bad)
    {
        using var model = AnalysisTestModels.RandomConvNet(7);
        using (torch.no_grad())
        {
            var fc = model.named_parameters().First(p => p.name == "fc.weight").parameter;
            fc[3, 5] = bad;
        }

        var e = Assert.Throws<CompressException>(() => PruneAnalyzer.Analyze(model, new AnalysisOptions { Backend = backend }));

        Assert.Equal(DiagnosticCode.NonFiniteWeights, e.Code);
        Assert.Contains("fc.weight", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("conv.weight", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Analyze_Float64Module_UsesTorchBackendAndMatchesFloat32()
    {
        using var model = AnalysisTestModels.LoadFixtureLeNet5();
        var single = PruneAnalyzer.Analyze(model);
        model.to(ScalarType.Float64);

        var result = PruneAnalyzer.Analyze(model);

        Assert.Equal(AnalysisBackend.Torch, result.Backend);
        for (int i = 0; i < result.Cosine.Length; i++) Assert.Equal(single.Cosine[i], result.Cosine[i], 1e-12);
        Assert.Equal(single.SafeRate, result.SafeRate, 1e-12);
        var e = Assert.Throws<CompressException>(() => PruneAnalyzer.Analyze(model, new AnalysisOptions { Backend = AnalysisBackend.Fast }));
        Assert.Equal(DiagnosticCode.UnsupportedDType, e.Code);
    }

    [Fact]
    public void Linspace_101Rates_MatchTorchFloat32BitForBit()
    {
        using var reference = AnalysisTestModels.LoadReference();
        var expected = reference.RootElement.GetProperty("rates").EnumerateArray().Select(e => (float)e.GetDouble());

        var rates = PruneRates.Grid();

        Assert.Equal(expected.Select(BitConverter.SingleToUInt32Bits), rates.Select(BitConverter.SingleToUInt32Bits));
        Assert.NotEqual(Enumerable.Range(0, 101).Select(i => BitConverter.SingleToUInt32Bits(i / 100f)),
            rates.Select(BitConverter.SingleToUInt32Bits));
    }

    private sealed class ToleranceComparer(double tolerance) : IEqualityComparer<double>
    {
        public bool Equals(double x, double y) => Math.Abs(x - y) <= tolerance;

        public int GetHashCode(double obj) => 0;
    }
}

using System.Text.Json;
using Compress.Engine.Diagnostics;
using Compress.Engine.Pruning.FineGrained;
using Compress.Engine.Tests.Analysis;
using TorchSharp;
using static TorchSharp.torch;

namespace Compress.Engine.Tests.Pruning.FineGrained;

public class LayerwiseMagnitudePrunerTests
{
    /// <summary>One parameter called <c>weight</c>, of any shape.</summary>
    private sealed class Holder : nn.Module
    {
        public Holder(Tensor value) : base("holder") => register_parameter("weight", new TorchSharp.Modules.Parameter(value));
    }

    private static IEnumerable<JsonElement> ReferenceCases()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(RepoPaths.Fixture("fine-grained-prune", "reference.json")));
        return [.. doc.RootElement.GetProperty("cases").EnumerateArray().Select(c => c.Clone())];
    }

    private static Holder Build(JsonElement c)
    {
        long[] shape = [.. c.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64())];
        // The lab prunes any tensor; only weights with dim > 1 are prunable here, so a 1-d case becomes one row (the
        // flattened mask is the same).
        if (shape.Length == 1) shape = [1, shape[0]];
        float[] values = [.. c.GetProperty("values").EnumerateArray().Select(e => (float)e.GetDouble())];
        return new Holder(torch.tensor(values).reshape(shape));
    }

    [Fact]
    public void Compute_LabReferenceCases_MatchPyTorchMasksIncludingTies()
    {
        int compared = 0, tied = 0;
        foreach (var c in ReferenceCases())
        {
            if (c.TryGetProperty("error", out _)) continue;
            using var scope = torch.NewDisposeScope();
            double sparsity = c.GetProperty("sparsity").GetDouble();
            using var model = Build(c);
            bool[] expected = [.. c.GetProperty("mask").EnumerateArray().Select(e => e.GetInt32() == 1)];

            using var mask = LayerwiseMagnitudePruner.Compute(model, new Dictionary<string, double> { ["weight"] = sparsity });

            string label = $"{c.GetProperty("name").GetString()} at {sparsity}";
            Assert.True(expected.SequenceEqual(mask.Masks["weight"].reshape(-1).data<bool>().ToArray()), label);
            Assert.Equal(expected.Count(k => !k), mask.PrunedCount);
            if (mask.PrunedCount > c.GetProperty("numZeros").GetInt64()) tied++;
            compared++;
        }
        Assert.Equal(24, compared);
        Assert.True(tied >= 3, $"{tied} cases where ties pruned more than num_zeros; the fixture is meant to have several");
    }

    [Fact]
    public void ZeroCount_LabReferenceCases_IsPythonRoundOfTheProduct()
    {
        foreach (var c in ReferenceCases())
        {
            long n = c.GetProperty("shape").EnumerateArray().Aggregate(1L, (a, e) => a * e.GetInt64());
            Assert.Equal(c.GetProperty("numZeros").GetInt64(), LayerwiseMagnitudePruner.ZeroCount(n, c.GetProperty("sparsity").GetDouble()));
        }
    }

    [Fact]
    public void Compute_ZeroCountRoundsToZero_KeepsEverythingWhereTheLabRaises()
    {
        var cases = ReferenceCases().Where(c => c.TryGetProperty("error", out _)).ToList();
        Assert.Equal(2, cases.Count);
        foreach (var c in cases)
        {
            using var model = Build(c);
            using var mask = LayerwiseMagnitudePruner.Compute(model, new Dictionary<string, double> { ["weight"] = c.GetProperty("sparsity").GetDouble() });
            Assert.Equal(0, mask.PrunedCount);
            Assert.Equal(10, mask.TotalCount);
        }
    }

    [Fact]
    public void Compute_LeNet5_PrunesEachLayerOnItsOwnMagnitudesAndLeavesOthersAlone()
    {
        using var model = AnalysisTestModels.LoadFixtureLeNet5();
        var sparsities = new Dictionary<string, double> { ["conv1.weight"] = 0.3, ["fc1.weight"] = 0.9, ["fc3.weight"] = 0.55 };
        var before = model.named_parameters().ToDictionary(p => p.name, p => p.parameter.data<float>().ToArray());

        using var mask = LayerwiseMagnitudePruner.Compute(model, sparsities);
        mask.Apply(model);

        Assert.Equal(sparsities.Keys.Order(), mask.Masks.Keys.Order());
        foreach (var (name, parameter) in model.named_parameters())
        {
            float[] after = parameter.data<float>().ToArray();
            if (!sparsities.TryGetValue(name, out double s))
            {
                Assert.Equal(before[name], after); // not named: untouched
                continue;
            }
            // Independent rule: the k-th smallest |w| of this tensor alone; everything at or below it is zero, the rest kept.
            float[] magnitudes = [.. before[name].Select(MathF.Abs).Order()];
            long k = (long)Math.Round(before[name].Length * s, MidpointRounding.ToEven);
            float threshold = magnitudes[k - 1];
            for (int i = 0; i < after.Length; i++)
                Assert.Equal(MathF.Abs(before[name][i]) <= threshold ? 0f : before[name][i], after[i]);
            Assert.True(after.Count(v => v == 0f) >= k);
        }
    }

    [Fact]
    public void PrunableParameters_LeNet5_AreTheWeightsWithMoreThanOneDimension()
    {
        using var model = AnalysisTestModels.LeNet5();
        Assert.Equal(["conv1.weight", "conv2.weight", "fc1.weight", "fc2.weight", "fc3.weight"], LayerwiseMagnitudePruner.PrunableParameters(model));
    }

    [Fact]
    public void Compute_MisspeltName_ThrowsCmp0750WithSuggestion()
    {
        using var model = AnalysisTestModels.LeNet5();
        var e = Assert.Throws<CompressException>(() => LayerwiseMagnitudePruner.Compute(model, new Dictionary<string, double> { ["fc2.wieght"] = 0.5 }));
        Assert.Equal(DiagnosticCode.UnknownPrunableParameter, e.Code);
        Assert.Contains("'fc2.wieght'", e.Message, StringComparison.Ordinal);
        Assert.Contains("did you mean 'fc2.weight'?", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Compute_BiasAndUnknownNames_ListsBothInOneCmp0750()
    {
        using var model = AnalysisTestModels.LeNet5();
        var e = Assert.Throws<CompressException>(() =>
            LayerwiseMagnitudePruner.Compute(model, new Dictionary<string, double> { ["fc1.bias"] = 0.5, ["zzz"] = 0.5, ["conv1.weight"] = 0.5 }));
        Assert.Equal(DiagnosticCode.UnknownPrunableParameter, e.Code);
        Assert.Contains("'fc1.bias' is a 1-d parameter", e.Message, StringComparison.Ordinal);
        Assert.Contains("'zzz' is not a parameter of the model", e.Message, StringComparison.Ordinal);
        Assert.Contains("2 names", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(1.5)]
    [InlineData(-0.1)]
    [InlineData(double.NaN)]
    public void Compute_SparsityOutsideUnitInterval_ThrowsCmp0751NamingTheLayer(double sparsity)
    {
        using var model = AnalysisTestModels.LeNet5();
        var e = Assert.Throws<CompressException>(() => LayerwiseMagnitudePruner.Compute(model, new Dictionary<string, double> { ["fc1.weight"] = sparsity }));
        Assert.Equal(DiagnosticCode.InvalidLayerSparsity, e.Code);
        Assert.Contains("'fc1.weight'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Compute_NaNWeight_ThrowsCmp0107()
    {
        using var model = new Holder(torch.tensor(new[] { 1f, float.NaN, 0.5f, 0.25f }).reshape(2, 2));
        var e = Assert.Throws<CompressException>(() => LayerwiseMagnitudePruner.Compute(model, new Dictionary<string, double> { ["weight"] = 0.5 }));
        Assert.Equal(DiagnosticCode.NonFiniteWeights, e.Code);
    }

    [Fact]
    public void Compute_SparsityOneAndZero_PrunesAllAndNothing()
    {
        using var model = AnalysisTestModels.LoadFixtureLeNet5();
        using var mask = LayerwiseMagnitudePruner.Compute(model, new Dictionary<string, double> { ["conv1.weight"] = 1.0, ["conv2.weight"] = 0.0 });
        Assert.False(mask.Masks["conv1.weight"].any().item<bool>());
        Assert.True(mask.Masks["conv2.weight"].all().item<bool>());
        Assert.Equal(150, mask.PrunedCount);
    }
}

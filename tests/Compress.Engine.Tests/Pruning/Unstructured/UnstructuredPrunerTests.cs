using System.Security.Cryptography;
using System.Text.Json;
using Compress.Engine.Diagnostics;
using Compress.Engine.Models;
using Compress.Engine.Pruning;
using Compress.Engine.Pruning.Importance;
using Compress.Engine.Pruning.Unstructured;
using Compress.Engine.Tests.Export;
using TorchSharp;
using static TorchSharp.torch;

namespace Compress.Engine.Tests.Pruning.Unstructured;

public class UnstructuredPrunerTests
{
    private sealed record WeightMask(string Name, long Pruned, string Sha256);

    private sealed record Case(string Model, string Criterion, string Scope, double Fraction, WeightMask[] Weights);

    private sealed record Reference(Case[] Cases);

    private static readonly JsonSerializerOptions JsonOptions = new() { PropertyNameCaseInsensitive = true };

    private static readonly Lazy<Reference> Fixture = new(() => JsonSerializer.Deserialize<Reference>(
        File.ReadAllText(RepoPaths.Fixture("pruning-criteria", "reference.json")), JsonOptions)!);

    public static TheoryData<string, string, string> Cases
    {
        get
        {
            var data = new TheoryData<string, string, string>();
            foreach (var group in Fixture.Value.Cases.GroupBy(c => (c.Model, c.Criterion, c.Scope)))
                data.Add(group.Key.Model, group.Key.Criterion, group.Key.Scope);
            return data;
        }
    }

    /// <summary>The script's batch: x[i] = sin(0.37 i) * 1.5 over the flattened [8, C, H, W] batch, labels i % 10.</summary>
    private static (Tensor X, Tensor Y) Batch(InputShape shape)
    {
        int n = 8 * shape.Channels * shape.Height * shape.Width;
        var values = new double[n];
        for (int i = 0; i < n; i++) values[i] = Math.Sin(0.37 * i) * 1.5;
        return (tensor(values, [8, shape.Channels, shape.Height, shape.Width]), tensor(Enumerable.Range(0, 8).Select(i => (long)(i % 10)).ToArray()));
    }

    private static string Digest(Tensor mask)
    {
        byte[] bytes = mask.to(ScalarType.Byte).contiguous().cpu().data<byte>().ToArray();
        return Convert.ToHexString(SHA256.HashData(bytes)).ToLowerInvariant();
    }

    private static IWeightImportance Criterion(string name) => PruningNames.Criterion(name);

    [Theory]
    [MemberData(nameof(Cases))]
    public void Compute_MatchesPyTorchMasksExactly(string modelName, string criterion, string scope)
    {
        using var model = ExportFixtures.Load(modelName);
        model.to(ScalarType.Float64);
        var (x, y) = Batch(model.InputShape);
        using var xs = x;
        using var ys = y;
        var names = UnstructuredPruner.ScopeOf(model, includeClassifier: false);
        var importance = Criterion(criterion);
        var gradients = importance.NeedsGradients ? GradientCollector.Collect(model, [(xs, ys)], names) : null;
        using var context = new ImportanceContext(seed: 0, gradients: gradients);
        var options = new UnstructuredPruningOptions { Criterion = importance, Scope = PruningNames.Scope(scope)!.Value };
        foreach (var expected in Fixture.Value.Cases.Where(c => c.Model == modelName && c.Criterion == criterion && c.Scope == scope))
        {
            using var mask = UnstructuredPruner.Compute(model, expected.Fraction, options, context);
            Assert.Equal(expected.Weights.Select(w => w.Name), mask.Masks.Keys);
            foreach (var weight in expected.Weights)
            {
                using var kept = mask.Masks[weight.Name].sum();
                Assert.Equal(weight.Pruned, mask.Masks[weight.Name].numel() - kept.item<long>());
                Assert.True(weight.Sha256 == Digest(mask.Masks[weight.Name]), $"{modelName} {criterion} {scope} {expected.Fraction} {weight.Name}");
            }
        }
    }

    [Fact]
    public void GradientCollector_LeavesBatchNormStatisticsGradientsAndModeAsTheyWere()
    {
        using var model = ExportFixtures.Load("resnet18-cifar");
        var before = model.OrderedStateDict().ToDictionary(s => s.Key, s => s.Value.clone());
        var (x, y) = Batch(model.InputShape);
        using var xs = x.to(ScalarType.Float32);
        using var ys = y;
        var gradients = GradientCollector.Collect(model, [(xs, ys)], UnstructuredPruner.ScopeOf(model, false));
        Assert.False(model.training);
        foreach (var (key, value) in model.OrderedStateDict()) Assert.True(value.equal(before[key]).all().item<bool>(), key);
        Assert.All(model.parameters(), p => Assert.Null(p.grad));
        Assert.Contains(gradients.Values, g => g.abs().sum().item<double>() > 0);
        foreach (var t in gradients.Values.Concat(before.Values)) t.Dispose();
    }

    [Fact]
    public void Random_ExactCountSeededAndFreshPerStep()
    {
        using var model = ExportFixtures.Load("lenet5");
        var options = new UnstructuredPruningOptions { Criterion = new RandomImportance() };
        using var a = UnstructuredPruner.Compute(model, 0.6, options, new ImportanceContext(seed: 1));
        using var b = UnstructuredPruner.Compute(model, 0.6, options, new ImportanceContext(seed: 1));
        using var c = UnstructuredPruner.Compute(model, 0.6, options, new ImportanceContext(seed: 2));
        using var d = UnstructuredPruner.Compute(model, 0.6, options, new ImportanceContext(seed: 1, step: 1));
        long n = a.TotalCount;
        Assert.Equal((long)Math.Round(0.6 * n, MidpointRounding.ToEven), a.PrunedCount);
        Assert.All(a.Masks.Keys, k => Assert.True(a.Masks[k].equal(b.Masks[k]).all().item<bool>()));
        Assert.Contains(a.Masks.Keys, k => !a.Masks[k].equal(c.Masks[k]).all().item<bool>());
        Assert.Contains(a.Masks.Keys, k => !a.Masks[k].equal(d.Masks[k]).all().item<bool>());
        // Global random spreads the pruning evenly: each tensor loses about 60%.
        foreach (var (name, mask) in a.Masks.Where(m => m.Value.numel() > 1000))
        {
            double pruned = 1 - (mask.sum().item<long>() / (double)mask.numel());
            Assert.InRange(pruned, 0.55, 0.65);
        }
    }

    [Fact]
    public void RandomBernoulli_EachWeightOnItsOwn_AboutTheFraction()
    {
        using var model = ExportFixtures.Load("resnet18-cifar");
        var options = new UnstructuredPruningOptions { Criterion = PruningNames.Criterion("random-bernoulli") };
        using var a = UnstructuredPruner.Compute(model, 0.7, options, new ImportanceContext(seed: 4));
        using var b = UnstructuredPruner.Compute(model, 0.7, options, new ImportanceContext(seed: 4));
        Assert.Equal(a.PrunedCount, b.PrunedCount);
        long exact = (long)Math.Round(0.7 * a.TotalCount, MidpointRounding.ToEven);
        Assert.NotEqual(exact, a.PrunedCount); // not exactly k ...
        Assert.InRange(a.Sparsity, 0.68, 0.72); // ... but close to s (n is about 170k)
    }

    [Fact]
    public void Compute_CurrentMaskOnlyGrows_AndTheClassifierIsOutOfScope()
    {
        using var model = ExportFixtures.Load("lenet5");
        var options = new UnstructuredPruningOptions { Criterion = new RandomImportance(), Scope = PruneScope.Layer };
        using var first = UnstructuredPruner.Compute(model, 0.3, options, new ImportanceContext(seed: 3));
        using var second = UnstructuredPruner.Compute(model, 0.5, options, new ImportanceContext(seed: 3, step: 1), first);
        Assert.DoesNotContain("fc3.weight", first.Masks.Keys);
        foreach (var (name, mask) in first.Masks)
        {
            using var stillKept = second.Masks[name].logical_and(mask.logical_not());
            Assert.False(stillKept.any().item<bool>(), name); // nothing pruned comes back
        }
        Assert.Equal(Math.Round(0.5 * second.TotalCount), second.PrunedCount, 2);
    }

    [Fact]
    public void Compute_NaNWeight_ThrowsCmp0107NamingIt()
    {
        using var model = ExportFixtures.Load("lenet5");
        using (no_grad()) model.named_parameters().First(p => p.name == "conv2.weight").parameter[0, 0, 0, 0] = double.NaN;
        var e = Assert.Throws<CompressException>(() =>
            UnstructuredPruner.Compute(model, 0.5, new UnstructuredPruningOptions(), new ImportanceContext(0)));
        Assert.Equal(DiagnosticCode.NonFiniteWeights, e.Code);
        Assert.Contains("conv2.weight", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(PruneScheduleShape.Linear, new[] { 0.18, 0.36, 0.54, 0.72, 0.9 })]
    [InlineData(PruneScheduleShape.Cubic, new[] { 0.4392, 0.7056, 0.8424, 0.8928, 0.9 })]
    [InlineData(PruneScheduleShape.Geometric, new[] { 0.36904265551980675, 0.6018928294465028, 0.748811356849042, 0.8415106807538887, 0.9 })]
    public void Schedule_CumulativeTargets(PruneScheduleShape shape, double[] expected)
    {
        var schedule = new PruneSchedule { Steps = 5, Shape = shape };
        for (int i = 1; i <= 5; i++) Assert.Equal(expected[i - 1], schedule.Target(0.9, i), 10);
    }
}

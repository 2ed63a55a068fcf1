using Compress.Engine.Diagnostics;
using Compress.Engine.Models;
using Compress.Engine.Pipeline;
using Compress.Engine.Pruning;
using Compress.Engine.Pruning.Importance;
using Compress.Engine.Pruning.Unstructured;
using Compress.Engine.Tests.Data;
using Compress.Engine.Training;
using static TorchSharp.torch;

namespace Compress.Engine.Tests.Pipeline;

/// <summary>The unstructured method through the prune job: criteria, scopes and the iterative schedule.</summary>
public class PruneJobUnstructuredTests
{
    private static PruneResult Run(TempDirectory dir, UnstructuredPruningOptions settings, PruneSchedule schedule, double rate,
        IDiagnosticSink sink, string output)
    {
        var model = TinySetup.TinyResNet;
        string weights = dir.Combine("seeded.safetensors");
        if (!File.Exists(weights))
        {
            manual_seed(0);
            using var seeded = ModelFactory.Create(model);
            Checkpoint.SaveSafetensors(seeded, weights);
        }
        return PruneJob.Run(new PruneJob.Options
        {
            Model = model,
            Weights = weights,
            Data = TinySetup.SmallData,
            Rate = rate.ToString(System.Globalization.CultureInfo.InvariantCulture),
            Method = PruneMethod.Unstructured,
            Unstructured = settings,
            Schedule = schedule,
            FineTune = TrainingOptions.PaperFineTune with { BatchSize = 64 },
            OutputPath = output,
        }, sink);
    }

    [Fact]
    public void Iterative_GradientGlobal_ReachesTheExactTargetInGrowingStepsAndKeepsTheClassifier()
    {
        using var dir = new TempDirectory();
        var sink = new CollectingSink();
        string output = dir.Combine("pruned.safetensors");
        var result = Run(dir, new UnstructuredPruningOptions { Criterion = new GradientMagnitudeImportance(), GradientImages = 64 },
            new PruneSchedule { Steps = 3, Shape = PruneScheduleShape.Geometric, EpochsBetween = 1 }, 0.8, sink, output);

        var steps = sink.ProgressLines.Where(l => l.StartsWith("prune: step ", StringComparison.Ordinal)).ToList();
        Assert.Equal(3, steps.Count);
        Assert.Contains(sink.ProgressLines, l => l.StartsWith("fine-tune (after step 2)", StringComparison.Ordinal));
        var counts = steps.Select(l => long.Parse(l.Split(": ")[^1].Split(' ')[0].Replace(",", ""), System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.True(counts[0] < counts[1] && counts[1] < counts[2], string.Join(", ", counts));

        using var model = ModelFactory.Create(TinySetup.TinyResNet);
        Checkpoint.Load(model, output);
        var scope = UnstructuredPruner.ScopeOf(model, includeClassifier: false);
        long total = 0, zeros = 0;
        foreach (var (name, p) in model.named_parameters().Where(p => scope.Contains(p.name)))
        {
            total += p.numel();
            zeros += p.eq(0).sum().item<long>();
        }
        Assert.Equal(Math.Round(0.8 * total, MidpointRounding.ToEven), counts[2]);
        Assert.True(zeros >= counts[2], $"{zeros} zeros after fine-tuning, {counts[2]} pruned"); // the mask held
        Assert.DoesNotContain("fc.weight", scope);
        Assert.Equal(0, model.named_parameters().Single(p => p.name == "fc.weight").parameter.eq(0).sum().item<long>());
        Assert.Equal(counts[2], result.PrunedCount);
    }

    [Theory]
    [InlineData("magnitude", "layer")]
    [InlineData("random", "global")]
    public void OneShot_EachTensorOrTheWholeScopeLosesTheFraction(string criterion, string scope)
    {
        using var dir = new TempDirectory();
        string output = dir.Combine("pruned.safetensors");
        var settings = new UnstructuredPruningOptions { Criterion = PruningNames.Criterion(criterion), Scope = PruningNames.Scope(scope)!.Value };
        Run(dir, settings, PruneSchedule.OneShot, 0.5, DiagnosticSinks.None, output);
        using var model = ModelFactory.Create(TinySetup.TinyResNet);
        Checkpoint.Load(model, output);
        var names = UnstructuredPruner.ScopeOf(model, includeClassifier: false);
        foreach (var (name, p) in model.named_parameters().Where(p => names.Contains(p.name)))
        {
            double zeroFraction = p.eq(0).sum().item<long>() / (double)p.numel();
            if (scope == "layer") Assert.True(zeroFraction >= 0.5 - (0.5 / p.numel()), $"{name}: {zeroFraction}");
            else if (p.numel() > 2000) Assert.InRange(zeroFraction, 0.4, 0.6);
        }
    }
}

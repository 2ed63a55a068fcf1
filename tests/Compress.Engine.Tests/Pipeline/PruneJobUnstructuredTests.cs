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

public class PruneJobIterativeChannelTests
{
    [Fact]
    public void IterativeChannel_ComposesThePlansIntoTheOriginalChannels()
    {
        using var dir = new TempDirectory();
        string weights = dir.Combine("seeded.safetensors");
        manual_seed(0);
        using (var seeded = ModelFactory.Create(TinySetup.TinyResNet)) Checkpoint.SaveSafetensors(seeded, weights);
        var sink = new CollectingSink();
        string output = dir.Combine("pruned.safetensors");
        var result = PruneJob.Run(new PruneJob.Options
        {
            Model = TinySetup.TinyResNet,
            Weights = weights,
            Data = TinySetup.SmallData,
            Method = PruneMethod.Channel,
            Channel = new Compress.Engine.Pruning.Channels.ChannelPruningOptions { Ratio = 0.5 },
            Schedule = new PruneSchedule { Steps = 2, EpochsBetween = 1 },
            FineTune = TrainingOptions.PaperFineTune with { BatchSize = 64 },
            OutputPath = output,
        }, sink);

        Assert.Equal(2, sink.ProgressLines.Count(l => l.StartsWith("prune: channel step ", StringComparison.Ordinal)));
        var groups = result.ChannelGroups!;
        Assert.Contains(groups, g => g.ChannelsAfter < g.ChannelsBefore);
        foreach (var g in groups)
        {
            Assert.Equal(g.KeptIndices.Count, g.KeptIndices.Distinct().Count());
            Assert.All(g.KeptIndices, c => Assert.InRange(c, 0, g.ChannelsBefore - 1));
            // Two steps to half: 1 - 0.25 then the rest; each group ends near half of its original channels.
            if (g.Group.IsPrunable && g.ChannelsBefore >= 8) Assert.InRange(g.ChannelsAfter, g.ChannelsBefore / 2 - 1, g.ChannelsBefore / 2 + 1);
        }
        // The composed plan, applied to the original model, gives the final shapes.
        using var original = ModelFactory.Create(TinySetup.TinyResNet);
        Checkpoint.Load(original, weights);
        using var replayed = Compress.Engine.Pruning.Channels.ChannelPruner.Apply(original, groups);
        using var final = ModelLoader.Create(TinySetup.TinyResNet, output, CPU, 0);
        Assert.Equal(final.OrderedStateDict().Select(s => s.Value.shape), replayed.Model.OrderedStateDict().Select(s => s.Value.shape));
    }
}

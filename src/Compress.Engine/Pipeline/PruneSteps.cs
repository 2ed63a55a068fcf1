using System.Globalization;
using Compress.Engine.Analysis;
using Compress.Engine.Diagnostics;
using Compress.Engine.Models;
using Compress.Engine.Pruning;
using Compress.Engine.Pruning.Channels;
using Compress.Engine.Pruning.FineGrained;
using TorchSharp;

namespace Compress.Engine.Pipeline;

/// <summary>
/// The pruning step of <see cref="PruneJob"/>, one entry per <see cref="PruneMethod"/> in one table: each decides and
/// applies its pruning (a mask, or a smaller model) and reports the rate it reached. The job around it (evaluate,
/// fine-tune, export) is the same for all.
/// </summary>
internal static class PruneSteps
{
    /// <summary>What a step reads.</summary>
    internal sealed record Input(PruneJob.Options Options, ClassifierModel Model, PruneAnalysis Analysis, double Rate, string RateSource,
        Data.DatasetSplits Splits, Data.Normalization Normalization, torch.Device Device, int EvaluationBatch, IDiagnosticSink Sink,
        Dictionary<string, double> Timings, System.Diagnostics.Stopwatch Clock, CancellationToken Cancellation);

    /// <summary>What a step did: a mask applied to the model, or a new smaller model (<see cref="Channels"/>).</summary>
    /// <remarks>A method that prunes while it trains (<see cref="PruneMethod.Dynamic"/>) also returns its training as
    /// <see cref="FineTune"/>: the job then fine-tunes no more.</remarks>
    internal sealed record Output(double Rate, string RateSource, PruningMask? Mask = null, ChannelPruningResult? Channels = null,
        IReadOnlyDictionary<string, double>? LayerSparsity = null, SparsityProposalResult? Proposal = null,
        Training.TrainingResult? FineTune = null, Pruning.Dynamic.DynamicPruningReport? Dynamic = null, SensitivityResult? Sensitivity = null);

    private static readonly Dictionary<PruneMethod, Func<Input, Output>> Table = new()
    {
        [PruneMethod.Global] = Global,
        [PruneMethod.Layerwise] = Layerwise,
        [PruneMethod.Unstructured] = Unstructured,
        [PruneMethod.Channel] = Channel,
        [PruneMethod.Dynamic] = Dynamic,
    };

    /// <summary>The step of <paramref name="method"/>.</summary>
    public static Func<Input, Output> For(PruneMethod method) => Table.TryGetValue(method, out var step)
        ? step
        : throw new ArgumentOutOfRangeException(nameof(method), method, "unknown prune method");

    /// <summary>The paper's: global L1 magnitude pruning of every parameter at the rate.</summary>
    private static Output Global(Input input)
    {
        var a = input.Analysis;
        input.Sink.Progress(string.Create(CultureInfo.InvariantCulture,
            $"prune: rate {input.Rate:F4} ({input.RateSource}); knee {a.Knee.Rate:F2}, K {a.KurtosisOfKurtoses:F4}, modifier {a.Modifier:F4}"));
        var mask = GlobalMagnitudePruner.Compute(input.Model, input.Rate);
        PruneJob.DrawHistograms(input.Options, input.Model, mask, input.Sink);
        mask.Apply(input.Model);
        return new Output(input.Rate, input.RateSource, mask);
    }

    /// <summary>Per-layer sparsities, given or proposed from a sensitivity scan.</summary>
    private static Output Layerwise(Input input)
    {
        var options = input.Options;
        var layerSparsity = options.Layerwise.Sparsity;
        SparsityProposalResult? proposal = null;
        SensitivityResult? scan = null;
        if (layerSparsity is null)
        {
            scan = SensitivityScan.Run(input.Model, input.Splits.Test, input.Normalization, input.Device,
                new SensitivityOptions { BatchSize = input.EvaluationBatch }, input.Sink, input.Cancellation);
            proposal = SparsityProposal.Propose(scan, options.Layerwise.MaxAccuracyDrop, targetSizeFraction: options.Layerwise.TargetSize);
            if (options.PlotDirectory is not null)
            {
                Directory.CreateDirectory(options.PlotDirectory);
                scan.WriteJson(Path.Combine(options.PlotDirectory, options.PlotName + ".sensitivity.json"));
                SensitivityPlot.WritePng(scan, Path.Combine(options.PlotDirectory, options.PlotName + ".sensitivity.png"), sink: input.Sink);
            }
            if (proposal.Note is not null) input.Sink.Progress("sensitivity: " + proposal.Note);
            layerSparsity = proposal.Sparsities;
            input.Timings["sensitivity"] = PruneJob.Lap(input.Clock);
        }
        var mask = LayerwiseMagnitudePruner.Compute(input.Model, layerSparsity);
        PruneJob.DrawHistograms(options, input.Model, mask, input.Sink);
        mask.Apply(input.Model);
        input.Sink.Progress(string.Create(CultureInfo.InvariantCulture,
            $"prune: layerwise magnitude pruning of {layerSparsity.Count} layer(s), {mask.PrunedCount:N0} weights removed"));
        return new Output(mask.Sparsity, proposal is null ? "layerwise" : "layerwise (sensitivity)", mask, LayerSparsity: layerSparsity, Proposal: proposal, Sensitivity: scan);
    }

    /// <summary>The conv and linear weights by criterion and scope on the schedule, or a mask from a plan file.</summary>
    private static Output Unstructured(Input input)
    {
        var options = input.Options;
        PruningMask mask;
        double rate = input.Rate;
        string source = input.RateSource;
        if (options.MaskPlanPath is { } maskPlan)
        {
            mask = MaskPlanFile.Read(maskPlan, input.Model);
            mask.Apply(input.Model);
            (rate, source) = (mask.Sparsity, "plan");
            input.Sink.Progress(string.Create(CultureInfo.InvariantCulture,
                $"prune: mask from {maskPlan}: {mask.PrunedCount:N0} of {mask.TotalCount:N0} weights pruned"));
        }
        else
        {
            mask = UnstructuredRun.Prune(input.Model, input.Rate, options.Unstructured, options.Schedule, options.FineTune, options.Run.Seed,
                input.Splits, input.Normalization, input.Device, input.Sink, input.Cancellation);
        }
        if (options.MaskPlanOutputPath is not null) MaskPlanFile.Write(options.MaskPlanOutputPath, mask, options.Model.Architecture);
        return new Output(rate, source, mask);
    }

    /// <summary>Whole channels removed (a plan, or the ranking on the schedule): a new, smaller model.</summary>
    private static Output Channel(Input input)
    {
        var options = input.Options;
        var channels = options.ChannelPlan is { } plan ? ChannelPruner.Apply(input.Model, plan)
            : ChannelRun.Prune(input.Model, options.Channel, options.Schedule, options.FineTune, options.Run.Seed, options.Unstructured.GradientImages,
                input.Splits, input.Normalization, input.Device, input.Sink, input.Cancellation);
        try
        {
            if (options.ChannelPlanOutputPath is not null)
                ChannelPlanFile.Write(options.ChannelPlanOutputPath, channels.Groups, options.Model.Architecture);
            input.Sink.Progress(ChannelPlanFile.Describe(channels.Groups));
            channels.Model.to(input.Device);
            input.Sink.Progress(string.Create(CultureInfo.InvariantCulture,
                $"prune: removed channels ({options.Channel.Ranking} ranking), parameters {channels.ParametersBefore:N0} -> {channels.ParametersAfter:N0}"));
            return new Output(1.0 - ((double)channels.ParametersAfter / channels.ParametersBefore), "channel", Channels: channels);
        }
        catch
        {
            channels.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Pruning while fine-tuning, with feedback: the fine-tuning epochs train with the dynamic mask (the target is the
    /// dynamic options' or, for the unstructured variant without one, the rate); the filter variant ends compacted.
    /// </summary>
    private static Output Dynamic(Input input)
    {
        var options = input.Options;
        double target = options.DynamicTarget ?? input.Rate;
        var outcome = DynamicRun.Train(input.Model, options.Dynamic with { Target = target }, options.FineTune with { Seed = options.Run.Seed },
            "fine-tune (dynamic)", input.Splits, input.Normalization, input.Device, input.Sink, input.Cancellation);
        string source = options.DynamicTarget is null ? input.RateSource : "targetSparsity";
        if (outcome.Compacted is { } compacted)
        {
            input.Sink.Progress(ChannelPlanFile.Describe(compacted.Groups));
            return new Output(target, source, Channels: compacted, FineTune: outcome.Training, Dynamic: outcome.Report);
        }
        return new Output(target, source, Mask: outcome.Mask, FineTune: outcome.Training, Dynamic: outcome.Report);
    }
}

using System.Globalization;
using Compress.Engine.Data;
using Compress.Engine.Diagnostics;
using Compress.Engine.Models;
using Compress.Engine.Pruning;
using Compress.Engine.Pruning.Channels;
using Compress.Engine.Pruning.Dynamic;
using Compress.Engine.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Compress.Engine.Pipeline;

/// <summary>Training with dynamic pruning, shared by <see cref="TrainJob"/> and <see cref="PruneJob"/>'s dynamic method.</summary>
internal static class DynamicRun
{
    /// <summary>What a run left: the training, the report, and either the final mask (unstructured; the caller owns
    /// it) or the compacted model (filter; the caller owns it).</summary>
    public sealed record Outcome(TrainingResult Training, DynamicPruningReport Report, PruningMask? Mask, ChannelPruningResult? Compacted);

    /// <summary>
    /// Trains <paramref name="model"/> with <paramref name="training"/> while <paramref name="options"/> prunes it,
    /// evaluating m (.) W on the test split after every epoch; the filter variant's model is then compacted.
    /// </summary>
    public static Outcome Train(ClassifierModel model, DynamicPruningOptions options, TrainingOptions training, string phase,
        DatasetSplits splits, Normalization normalization, Device device, IDiagnosticSink sink, CancellationToken cancellationToken)
    {
        var c = CultureInfo.InvariantCulture;
        using var pruning = DynamicPruning.Create(model, options);
        string regulariser = training.Decorrelation > 0 ? string.Create(c, $", decorrelation alpha {training.Decorrelation}") : "";
        sink.Progress(string.Create(c,
            $"dynamic pruning ({PruningNames.NameOf(options.Variant)}): {pruning.Units:N0} {pruning.Unit} in scope, target {options.Target:P1} by {options.RampEnd:P0} of training, mask every {options.MaskInterval} steps{regulariser}"));
        pruning.EpochEvaluation = epoch =>
        {
            var evaluation = Evaluator.Evaluate(model, splits.Test, normalization, device, training.EvaluationBatchSize, sink,
                $"evaluate (epoch {epoch})", cancellationToken);
            sink.Progress(string.Create(c,
                $"dynamic pruning: epoch {epoch}, {pruning.Sparsity:P2} of the {pruning.Unit} masked, test accuracy {evaluation.Accuracy:F2}%"));
            return evaluation.Accuracy;
        };
        var result = new Trainer(model, device, sink).Train(splits.Train, normalization, training, null, phase, pruning, cancellationToken);
        var report = DynamicPruningReport.Of(pruning, training);
        sink.Progress(string.Create(c,
            $"dynamic pruning: {report.Updates.Count} mask updates, {report.Revived:N0} {pruning.Unit} revived in all, {report.Masked:N0} of {report.Units:N0} masked at the end"));
        if (pruning is FilterDynamicPruning filters)
        {
            var compacted = filters.Compact();
            compacted.Model.to(device);
            sink.Progress(string.Create(c,
                $"dynamic pruning: compacted, parameters {compacted.ParametersBefore:N0} -> {compacted.ParametersAfter:N0}"));
            return new Outcome(result, report, null, compacted);
        }
        return new Outcome(result, report, pruning.TakeMask(), null);
    }
}

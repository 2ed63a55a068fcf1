using System.Globalization;
using Compress.Engine.Data;
using Compress.Engine.Diagnostics;
using Compress.Engine.Models;
using Compress.Engine.Pruning;
using Compress.Engine.Pruning.Channels;
using Compress.Engine.Pruning.Importance;
using Compress.Engine.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Compress.Engine.Pipeline;

/// <summary>The channel method's pruning step, shared by <see cref="PruneJob"/> and <see cref="CompareJob"/>: one-shot,
/// or iterative with fine-tuning between steps and the plans composed into the original channels. The gradient ranking
/// gets the loss gradients of the first training images; the random ranking the run's seed.</summary>
internal static class ChannelRun
{
    public static ChannelPruningResult Prune(ClassifierModel model, ChannelPruningOptions channel, PruneSchedule schedule,
        TrainingOptions fineTune, int seed, int gradientImages, DatasetSplits splits, Normalization normalization, Device device,
        IDiagnosticSink sink, CancellationToken cancellationToken)
    {
        if (!schedule.IsIterative) return Once(model, channel, seed, gradientImages, splits, normalization, device);

        // Iterative: step i removes what takes the channels from the previous step's target to 1 - s_i of the original
        // ones; the plans compose, so the result names the original channels each group keeps.
        double ratio = channel.Ratio;
        ClassifierModel current = model;
        ChannelPruningResult? last = null;
        int[][]? kept = null;
        IReadOnlyList<PrunedChannelGroup>? original = null;
        try
        {
            double done = 0;
            for (int step = 1; step <= schedule.Steps; step++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                double target = schedule.Target(ratio, step);
                double stepRatio = Math.Clamp(1 - ((1 - target) / (1 - done)), 0, 0.999999);
                var result = Once(current, channel with { Ratio = stepRatio }, seed, gradientImages, splits, normalization, device);
                original ??= result.Groups;
                kept = kept is null
                    ? [.. result.Groups.Select(g => g.KeptIndices.ToArray())]
                    : [.. result.Groups.Select((g, i) => g.KeptIndices.Select(c => kept[i][c]).ToArray())];
                last?.Dispose();
                last = result;
                current = result.Model;
                current.to(device);
                done = target;
                sink.Progress(string.Create(CultureInfo.InvariantCulture,
                    $"prune: channel step {step}/{schedule.Steps}, target {target:F4} of the channels: parameters {result.ParametersAfter:N0}"));
                if (step < schedule.Steps && schedule.EpochsBetween > 0)
                    new Trainer(current, device, sink).Train(splits.Train, normalization,
                        fineTune with { Epochs = schedule.EpochsBetween, Seed = seed + step }, null,
                        string.Create(CultureInfo.InvariantCulture, $"fine-tune (after step {step})"), cancellationToken);
            }
            var composed = original!.Select((g, i) => g with { Ratio = g.Group.IsPrunable ? ratio : 0, KeptIndices = kept![i] }).ToList();
            var final = new ChannelPruningResult(last!.Model, composed, model.ParameterCount());
            last = null; // its model now belongs to the final result
            return final;
        }
        finally
        {
            last?.Dispose();
        }
    }

    private static ChannelPruningResult Once(ClassifierModel model, ChannelPruningOptions channelOptions, int seed, int gradientImages,
        DatasetSplits splits, Normalization normalization, Device device)
    {
        var channel = channelOptions with { Seed = seed };
        if (channel.Ranking != ChannelRanking.Gradient) return ChannelPruner.Prune(model, channel);
        var names = model.named_parameters().Select(p => p.name).ToList();
        var gradients = GradientCollector.Collect(model, splits.Train, normalization, device, names, gradientImages);
        try
        {
            return ChannelPruner.Prune(model, channel with { Gradients = gradients });
        }
        finally
        {
            foreach (var g in gradients.Values) g.Dispose();
        }
    }
}

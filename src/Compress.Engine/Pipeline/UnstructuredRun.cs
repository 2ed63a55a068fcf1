using System.Globalization;
using Compress.Engine.Data;
using Compress.Engine.Diagnostics;
using Compress.Engine.Models;
using Compress.Engine.Pruning;
using Compress.Engine.Pruning.Importance;
using Compress.Engine.Pruning.Unstructured;
using Compress.Engine.Training;
using static TorchSharp.torch;

namespace Compress.Engine.Pipeline;

/// <summary>The unstructured method's pruning step, shared by <see cref="PruneJob"/> and <see cref="CompareJob"/>.</summary>
internal static class UnstructuredRun
{
    /// <summary>
    /// Each step of <paramref name="schedule"/> scores the masked model again (gradients from the first training images
    /// when the criterion needs them), grows the mask to that step's cumulative target and applies it; between steps the
    /// model fine-tunes with the mask held (<paramref name="fineTune"/> with the schedule's epochs). Returns the final
    /// mask (the caller fine-tunes after the last step).
    /// </summary>
    public static PruningMask Prune(ClassifierModel model, double rate, UnstructuredPruningOptions settings, PruneSchedule schedule,
        TrainingOptions fineTune, int seed, DatasetSplits splits, Normalization normalization, Device device, IDiagnosticSink sink,
        CancellationToken cancellationToken)
    {
        var scope = UnstructuredPruner.ScopeOf(model, settings.IncludeClassifier);
        PruningMask? mask = null;
        try
        {
            for (int step = 1; step <= schedule.Steps; step++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                double target = schedule.Target(rate, step);
                var gradients = settings.Criterion.NeedsGradients
                    ? GradientCollector.Collect(model, splits.Train, normalization, device, scope, settings.GradientImages)
                    : null;
                using var context = new ImportanceContext(seed, step - 1, gradients);
                var next = UnstructuredPruner.Compute(model, target, settings, context, mask);
                mask?.Dispose();
                mask = next;
                mask.Apply(model);
                sink.Progress(string.Create(CultureInfo.InvariantCulture,
                    $"prune: step {step}/{schedule.Steps}, {settings.Criterion.Name} {settings.Scope.ToString().ToLowerInvariant()}, target {target:F4}: {mask.PrunedCount:N0} of {mask.TotalCount:N0} weights in scope pruned"));
                if (step < schedule.Steps && schedule.EpochsBetween > 0)
                {
                    new Trainer(model, device, sink).Train(splits.Train, normalization,
                        fineTune with { Epochs = schedule.EpochsBetween, Seed = seed + step }, mask,
                        string.Create(CultureInfo.InvariantCulture, $"fine-tune (after step {step})"), cancellationToken);
                }
            }
            return mask!;
        }
        catch
        {
            mask?.Dispose();
            throw;
        }
    }
}

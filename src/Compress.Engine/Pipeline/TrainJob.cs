using Compress.Engine.Diagnostics;
using Compress.Engine.Models;
using Compress.Engine.Training;

namespace Compress.Engine.Pipeline;

/// <summary>What <c>compress train</c> does: create (or load) a model, train it, evaluate it, save it.</summary>
public static class TrainJob
{
    /// <summary>Options of <see cref="Run"/>.</summary>
    public sealed record Options
    {
        public ModelOptions Model { get; init; } = new();
        /// <summary>Optional starting weights; a fresh seeded initialisation otherwise.</summary>
        public string? InitialWeights { get; init; }
        public DataOptions Data { get; init; } = new();
        public TrainingOptions Training { get; init; } = new();
        public RunOptions Run { get; init; } = new();
        /// <summary>Where the trained weights go (safetensors); nothing is written when null.</summary>
        public string? OutputPath { get; init; }
        /// <summary>
        /// Dynamic pruning with feedback (unstructured): the fraction of the conv and linear weights masked at the end
        /// (<see cref="Pruning.Dynamic.DynamicPruning"/>). Default null (off).
        /// </summary>
        public double? DynamicPruneTarget { get; init; }
        /// <summary>Dynamic pruning: steps between mask updates. Default 16.</summary>
        public int MaskInterval { get; init; } = 16;
        /// <summary>Dynamic pruning: fraction of training at which the target is reached. Default 0.75.</summary>
        public double RampEnd { get; init; } = 0.75;
    }

    /// <summary>Trains and returns what was measured.</summary>
    public static TrainResult Run(Options options, IDiagnosticSink sink, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Training.Validate();
        using var run = PreparedRun.Start(options.Model, options.InitialWeights, options.Data, options.Run, sink);
        var (model, device, splits, normalization) = (run.Model, run.Device, run.Data, run.Normalization);
        using var dynamic = options.DynamicPruneTarget is double target
            ? new Pruning.Dynamic.DynamicPruning(model, target, options.MaskInterval, options.RampEnd)
            : null;
        var training = new Trainer(model, device, sink).Train(splits.Train, normalization,
            options.Training with { Seed = options.Run.Seed }, null, "train", dynamic, cancellationToken);
        if (dynamic is not null)
            sink.Progress(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"dynamic pruning: {dynamic.Updates.Count} mask updates, {dynamic.Updates.Sum(u => u.Revived):N0} weights revived in all, {dynamic.Mask?.PrunedCount ?? 0:N0} of {dynamic.Mask?.TotalCount ?? 0:N0} masked at the end"));
        var evaluation = Evaluator.Evaluate(model, splits.Test, normalization, device, options.Training.EvaluationBatchSize,
            sink, cancellationToken: cancellationToken);
        if (options.OutputPath is not null) Checkpoint.SaveSafetensors(model, options.OutputPath);
        var stats = ModelStatistics.Measure(model);
        return new TrainResult(options.Model.Architecture, evaluation.Accuracy, evaluation.Loss, training, stats.Parameters, options.OutputPath)
        {
            Sparsity = stats.Sparsity,
            MaskUpdates = dynamic?.Updates.Select(u => new MaskUpdate(u.Step, u.Sparsity, u.Revived)).ToList(),
        };
    }
}

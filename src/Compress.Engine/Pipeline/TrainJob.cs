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
        /// Dynamic pruning with feedback while training (<see cref="Pruning.Dynamic.DynamicPruning"/>): unstructured leaves
        /// m (.) W, filter saves the compacted model. Default null (off).
        /// </summary>
        public Pruning.Dynamic.DynamicPruningOptions? Dynamic { get; init; }
    }

    /// <summary>Trains and returns what was measured.</summary>
    public static TrainResult Run(Options options, IDiagnosticSink sink, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Training.Validate();
        using var run = PreparedRun.Start(options.Model, options.InitialWeights, options.Data, options.Run, sink);
        var (model, device, splits, normalization) = (run.Model, run.Device, run.Data, run.Normalization);
        var training = options.Training with { Seed = options.Run.Seed };
        TrainingResult trained;
        Pruning.Dynamic.DynamicPruningReport? report = null;
        Pruning.Channels.ChannelPruningResult? compacted = null;
        try
        {
            if (options.Dynamic is { } dynamic)
            {
                var outcome = DynamicRun.Train(model, dynamic, training, "train", splits, normalization, device, sink, cancellationToken);
                outcome.Mask?.Dispose();
                (trained, report, compacted) = (outcome.Training, outcome.Report, outcome.Compacted);
                if (compacted is not null) model = compacted.Model;
            }
            else
            {
                trained = new Trainer(model, device, sink).Train(splits.Train, normalization, training, null, "train", cancellationToken);
            }
            var evaluation = Evaluator.Evaluate(model, splits.Test, normalization, device, options.Training.EvaluationBatchSize,
                sink, cancellationToken: cancellationToken);
            if (options.OutputPath is not null) Checkpoint.SaveSafetensors(model, options.OutputPath);
            var stats = ModelStatistics.Measure(model);
            return new TrainResult(options.Model.Architecture, evaluation.Accuracy, evaluation.Loss, trained, stats.Parameters, options.OutputPath)
            {
                Sparsity = stats.Sparsity,
                Dynamic = report,
                ChannelGroups = compacted?.Groups.Select(Pruning.Channels.ChannelPlanEntry.Of).ToList(),
            };
        }
        finally
        {
            compacted?.Dispose();
        }
    }
}

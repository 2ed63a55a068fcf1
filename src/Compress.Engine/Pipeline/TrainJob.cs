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
    }

    /// <summary>Trains and returns what was measured.</summary>
    public static TrainResult Run(Options options, IDiagnosticSink sink, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Training.Validate();
        using var run = PreparedRun.Start(options.Model, options.InitialWeights, options.Data, options.Run, sink);
        var (model, device, splits, normalization) = (run.Model, run.Device, run.Data, run.Normalization);
        var training = new Trainer(model, device, sink).Train(splits.Train, normalization,
            options.Training with { Seed = options.Run.Seed }, cancellationToken: cancellationToken);
        var evaluation = Evaluator.Evaluate(model, splits.Test, normalization, device, options.Training.EvaluationBatchSize,
            sink, cancellationToken: cancellationToken);
        if (options.OutputPath is not null) Checkpoint.SaveSafetensors(model, options.OutputPath);
        return new TrainResult(options.Model.Architecture, evaluation.Accuracy, evaluation.Loss, training,
            ModelStatistics.Measure(model).Parameters, options.OutputPath);
    }
}

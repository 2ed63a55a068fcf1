using Compress.Engine.Data;
using Compress.Engine.Diagnostics;
using Compress.Engine.Models;
using Compress.Engine.Runtime;
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
        var device = TorchRuntime.Resolve(options.Run.Device, sink);
        TorchRuntime.SetThreads(options.Run.Threads);
        var splits = options.Data.Load(sink);
        using var model = ModelLoader.Create(options.Model, options.InitialWeights, device, options.Run.Seed);
        ModelLoader.CheckFits(model, splits.Train);
        var normalization = Normalization.FromDataset(splits.Train);
        var training = new Trainer(model, device, sink).Train(splits.Train, normalization,
            options.Training with { Seed = options.Run.Seed }, cancellationToken: cancellationToken);
        var evaluation = Evaluator.Evaluate(model, splits.Test, normalization, device, options.Training.EvaluationBatchSize,
            sink, cancellationToken: cancellationToken);
        if (options.OutputPath is not null) Checkpoint.SaveSafetensors(model, options.OutputPath);
        return new TrainResult(options.Model.Architecture, evaluation.Accuracy, evaluation.Loss, training,
            ModelStatistics.Measure(model).Parameters, options.OutputPath);
    }
}

using Compress.Engine.Diagnostics;
using Compress.Engine.Models;
using Compress.Engine.Training;

namespace Compress.Engine.Pipeline;

/// <summary>What <c>compress evaluate</c> does: load weights, measure test accuracy, loss and sparsity.</summary>
public static class EvaluateJob
{
    /// <summary>Options of <see cref="Run"/>.</summary>
    public sealed record Options
    {
        public ModelOptions Model { get; init; } = new();
        public required string Weights { get; init; }
        public DataOptions Data { get; init; } = new();
        public RunOptions Run { get; init; } = new();
        public int BatchSize { get; init; } = 256;
    }

    /// <summary>Evaluates and returns what was measured.</summary>
    public static EvaluateResult Run(Options options, IDiagnosticSink sink, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.BatchSize < 1)
            throw new CompressException(DiagnosticCode.InvalidTrainingOption, $"Batch size must be at least 1 (got {options.BatchSize}).");
        using var run = PreparedRun.Start(options.Model, options.Weights, options.Data, options.Run, sink);
        var model = run.Model;
        var evaluation = Evaluator.Evaluate(model, run.Data.Test, run.Normalization, run.Device,
            options.BatchSize, sink, cancellationToken: cancellationToken);
        var stats = ModelStatistics.Measure(model);
        return new EvaluateResult(options.Model.Architecture, evaluation.Accuracy, evaluation.Loss, evaluation.Count,
            stats.Parameters, stats.Sparsity);
    }
}

using Compress.Engine.Diagnostics;
using Compress.Engine.Models;
using Compress.Engine.Reporting;
using Compress.Engine.Training;

namespace Compress.Engine.Pipeline;

/// <summary>
/// The main job (<c>compress run</c>): train a baseline on the data (the built-in synthetic set by default), analyse it,
/// prune at the safe rate, fine-tune with the paper's recipe, evaluate, export a verified ONNX artifact and measure it in
/// ONNX Runtime, and write weights, ONNX, plot and result JSON, all together at the end (<see cref="OutputTransaction"/>).
/// </summary>
public static class MainJob
{
    /// <summary>Options of <see cref="Run"/>. Defaults finish in a few minutes on a 2-core CPU.</summary>
    public sealed record Options
    {
        /// <summary>Default: resnet18-cifar at width 0.25 (about 0.7M parameters), 10 classes.</summary>
        public ModelOptions Model { get; init; } = new() { Architecture = "resnet18-cifar", WidthMultiplier = 0.25 };
        public DataOptions Data { get; init; } = new();
        /// <summary>Baseline training: <see cref="TrainingOptions.CifarBaseline"/> (5 epochs, about a minute here).</summary>
        public TrainingOptions Baseline { get; init; } = TrainingOptions.CifarBaseline;
        /// <summary>Existing baseline weights; when set, no baseline is trained.</summary>
        public string? BaselineWeights { get; init; }
        public string Rate { get; init; } = "safe";
        public TrainingOptions FineTune { get; init; } = TrainingOptions.PaperFineTune;
        public RunOptions Run { get; init; } = new();
        /// <summary>Folder for baseline.safetensors, pruned.safetensors, pruned.onnx, cosine.png and result.json.</summary>
        public string OutputDirectory { get; init; } = "compress-out";
    }

    /// <summary>Runs the whole job.</summary>
    public static MainResult Run(Options options, IDiagnosticSink sink, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        // One transaction: baseline, pruned weights, ONNX, plot and result.json replace the previous set together at the
        // end; a failure or cancellation at any phase leaves the previous set as it was.
        using var transaction = OutputTransaction.Begin([options.OutputDirectory], sink);
        TrainResult? baseline = null;
        string weights = options.BaselineWeights ?? Path.Combine(options.OutputDirectory, "baseline.safetensors");
        if (options.BaselineWeights is null && options.Model.IsOnnx)
        {
            // An imported model is its own baseline.
            weights = options.Model.Architecture;
            sink.Progress($"main: {options.Model.Architecture} is the baseline (its own weights)");
        }
        else if (options.BaselineWeights is null)
        {
            sink.Progress($"main: training a baseline {options.Model.Architecture} (width {options.Model.WidthMultiplier}) on {options.Data.Source} data");
            baseline = TrainJob.Run(new TrainJob.Options
            {
                Model = options.Model,
                Data = options.Data,
                Training = options.Baseline,
                Run = options.Run,
                OutputPath = weights,
            }, sink, cancellationToken);
        }

        var prune = PruneJob.Run(new PruneJob.Options
        {
            Model = options.Model,
            Weights = weights,
            Data = options.Data,
            Rate = options.Rate,
            FineTune = options.FineTune,
            Run = options.Run,
            OutputPath = Path.Combine(options.OutputDirectory, "pruned.safetensors"),
            OnnxOutputPath = Path.Combine(options.OutputDirectory, "pruned.onnx"),
            PlotPath = Path.Combine(options.OutputDirectory, "cosine.png"),
        }, sink, cancellationToken);

        var result = new MainResult(baseline, prune, Path.GetFullPath(options.OutputDirectory));
        JsonOutput.WriteFile(Path.Combine(options.OutputDirectory, "result.json"), result);
        transaction.Commit();
        return result;
    }
}

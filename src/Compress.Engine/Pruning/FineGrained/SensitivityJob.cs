using Compress.Engine.Analysis;
using Compress.Engine.Diagnostics;
using Compress.Engine.Models;
using Compress.Engine.Pipeline;

namespace Compress.Engine.Pruning.FineGrained;

/// <summary>
/// What <c>compress sensitivity</c> does: load the model and data as every job does, run
/// <see cref="SensitivityScan"/> on the test split, then write the JSON result and the plot when asked.
/// </summary>
public static class SensitivityJob
{
    /// <summary>Options of <see cref="Run"/>.</summary>
    public sealed record Options
    {
        public ModelOptions Model { get; init; } = new();

        /// <summary>The trained weights to scan (safetensors or a PyTorch state_dict).</summary>
        public required string Weights { get; init; }

        public DataOptions Data { get; init; } = new();
        public RunOptions Run { get; init; } = new();

        /// <summary>Sparsities, layers, batch size and batch limit (defaults: the lab's 0.4..0.9 on every conv/linear weight).</summary>
        public SensitivityOptions Scan { get; init; } = new();

        /// <summary>Where the result goes as JSON (written atomically); nothing is written when null.</summary>
        public string? OutputPath { get; init; }

        /// <summary>Where the sensitivity curves go as PNG; nothing is drawn when null.</summary>
        public string? PlotPath { get; init; }
    }

    /// <summary>Runs the scan. Outputs are written only after the whole scan succeeded.</summary>
    public static SensitivityResult Run(Options options, IDiagnosticSink sink, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(sink);
        options.Scan.Validate();
        options.Scan.SortedSparsities();
        using var run = PreparedRun.Start(options.Model, options.Weights, options.Data, options.Run, sink);
        var result = SensitivityScan.Run(run.Model, run.Data.Test, run.Normalization, run.Device, options.Scan, sink, cancellationToken)
            with { Model = options.Model.Architecture };
        if (options.OutputPath is not null) result.WriteJson(options.OutputPath);
        if (options.PlotPath is not null)
            SensitivityPlot.WritePng(result, options.PlotPath, $"{options.Model.Architecture} ({Path.GetFileName(options.Weights)}): per-layer sensitivity", sink);
        return result;
    }
}

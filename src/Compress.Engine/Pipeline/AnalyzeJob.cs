using Compress.Engine.Analysis;
using Compress.Engine.Diagnostics;
using Compress.Engine.Models;
using Compress.Engine.Runtime;

namespace Compress.Engine.Pipeline;

/// <summary>What <c>compress analyze</c> does: the cosine curve, knee, kurtosis of kurtoses and safe rate of weights.</summary>
public static class AnalyzeJob
{
    /// <summary>Options of <see cref="Run"/>.</summary>
    public sealed record Options
    {
        public ModelOptions Model { get; init; } = new();
        public required string Weights { get; init; }
        public RunOptions Run { get; init; } = new();
        /// <summary>Zero-variance tensors are an error (CMP0302) instead of a warning.</summary>
        public bool Strict { get; init; }
        /// <summary>Optional PNG plot of the curve with knee, utopia point and safe rate.</summary>
        public string? PlotPath { get; init; }
    }

    /// <summary>Analyses the weights.</summary>
    public static PruneAnalysis Run(Options options, IDiagnosticSink sink)
    {
        ArgumentNullException.ThrowIfNull(options);
        var device = TorchRuntime.Resolve(options.Run.Device, sink);
        TorchRuntime.SetThreads(options.Run.Threads);
        using var model = ModelLoader.Create(options.Model, options.Weights, device, options.Run.Seed);
        var analysis = PruneAnalyzer.Analyze(model, new AnalysisOptions { Strict = options.Strict }, sink);
        if (options.PlotPath is not null)
            CosineCurvePlot.WritePng(analysis, options.PlotPath, $"{options.Model.Architecture} ({Path.GetFileName(options.Weights)})");
        return analysis;
    }
}

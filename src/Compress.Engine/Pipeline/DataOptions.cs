using Compress.Engine.Data;

namespace Compress.Engine.Pipeline;

/// <summary>Where the images come from.</summary>
public sealed record DataOptions
{
    /// <summary><c>synthetic</c> (default: the built-in generated dataset) or a dataset folder.</summary>
    public string Source { get; init; } = "synthetic";

    /// <summary>Settings of the built-in synthetic dataset (used when <see cref="Source"/> is <c>synthetic</c>).</summary>
    public SyntheticDataOptions Synthetic { get; init; } = new();

    /// <summary>Loads both splits.</summary>
    public DatasetSplits Load(Diagnostics.IDiagnosticSink? sink = null) => DatasetLoader.Load(Source, Synthetic, sink);
}

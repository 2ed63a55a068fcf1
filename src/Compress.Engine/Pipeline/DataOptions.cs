using Compress.Engine.Data;

namespace Compress.Engine.Pipeline;

/// <summary>Where the images come from.</summary>
public sealed record DataOptions
{
    /// <summary><c>synthetic</c> (default: the built-in generated dataset) or a dataset folder.</summary>
    public string Source { get; init; } = "synthetic";

    /// <summary>Settings of the built-in synthetic dataset (used when <see cref="Source"/> is <c>synthetic</c>).</summary>
    public SyntheticDataOptions Synthetic { get; init; } = new();

    /// <summary>
    /// How inputs are normalised; null (default): the model's own contract when an imported ONNX file records one,
    /// ImageNet's statistics for another imported 3-channel model, the training split's statistics otherwise.
    /// </summary>
    public NormalizationChoice? Normalize { get; init; }

    /// <summary>Loads both splits, brought to <paramref name="target"/> (a model's input) when given (see
    /// <see cref="DatasetLoader.Load"/>).</summary>
    public DatasetSplits Load(Diagnostics.IDiagnosticSink? sink = null, ImageShape? target = null, bool fitEveryKind = true) =>
        DatasetLoader.Load(Source, Synthetic, sink, target, fitEveryKind);
}

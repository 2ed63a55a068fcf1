namespace Compress.Engine.Pipeline;

/// <summary>
/// Where the per-layer sparsities of <see cref="Pruning.PruneMethod.Layerwise"/> come from: a given dictionary, or a
/// sensitivity scan of the unpruned model followed by <see cref="Pruning.FineGrained.SparsityProposal"/>.
/// </summary>
public sealed record LayerwiseOptions
{
    /// <summary>Weight name to sparsity; null runs the sensitivity scan and uses its proposal.</summary>
    public IReadOnlyDictionary<string, double>? Sparsity { get; init; }

    /// <summary>Scan proposal: fraction of the model's parameters to keep (default 0.5).</summary>
    public double TargetSize { get; init; } = 0.5;

    /// <summary>Scan proposal: largest accuracy drop in points one layer may cause alone (default 2).</summary>
    public double MaxAccuracyDrop { get; init; } = 2.0;
}

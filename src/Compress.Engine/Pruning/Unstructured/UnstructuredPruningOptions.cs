using Compress.Engine.Pruning.Importance;

namespace Compress.Engine.Pruning.Unstructured;

/// <summary>What <see cref="UnstructuredPruner"/> removes (ShrinkBench's baselines: a criterion and a scope).</summary>
public sealed record UnstructuredPruningOptions
{
    /// <summary>The criterion. Default <see cref="MagnitudeImportance"/>.</summary>
    public IWeightImportance Criterion { get; init; } = new MagnitudeImportance();

    /// <summary>Where scores are compared. Default <see cref="PruneScope.Global"/>.</summary>
    public PruneScope Scope { get; init; } = PruneScope.Global;

    /// <summary>Also prune the classifier (the layer that writes the logits). Default false, as ShrinkBench.</summary>
    public bool IncludeClassifier { get; init; }

    /// <summary>Layer scope only: per weight name its own fraction (weights not named use the overall fraction).
    /// Default null.</summary>
    public IReadOnlyDictionary<string, double>? LayerFractions { get; init; }

    /// <summary>Training images whose loss gradient the gradient criterion reads. Default
    /// <see cref="GradientCollector.DefaultImages"/>.</summary>
    public int GradientImages { get; init; } = GradientCollector.DefaultImages;
}

using static TorchSharp.torch;

namespace Compress.Engine.Pruning.Importance;

/// <summary>
/// A pruning criterion for single weights: a score per entry, lower = pruned first. Scores are compared within a scope
/// (<see cref="PruneScope"/>); ties are broken by |w|, then by flat index, so every criterion gives one exact mask.
/// </summary>
public interface IWeightImportance
{
    /// <summary>The name users write (<c>magnitude</c>, <c>gradient</c>, <c>random</c>).</summary>
    string Name { get; }

    /// <summary>Whether <see cref="Score"/> reads <see cref="ImportanceContext.Gradient"/> (so the caller collects
    /// gradients first).</summary>
    bool NeedsGradients { get; }

    /// <summary>
    /// The scores of <paramref name="weight"/> (parameter <paramref name="name"/>, position <paramref name="index"/> in
    /// the scope): a float64 tensor of the same shape, on the weight's device, owned by the caller.
    /// </summary>
    Tensor Score(string name, int index, Tensor weight, ImportanceContext context);
}

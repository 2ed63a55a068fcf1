using static TorchSharp.torch;

namespace Compress.Engine.Pruning.Importance;

/// <summary>
/// Random: uniform scores from a generator seeded by the run's seed, the tensor's position in the scope and the step,
/// so the same seed prunes the same entries on any device, and each step of a schedule draws anew. Pruning the k
/// lowest of i.i.d. uniform scores is the exact-count form of pruning each weight with probability s; with
/// <see cref="Independent"/> each weight is instead pruned on its own with probability s (ShrinkBench's random
/// pruning: the count varies around s x n).
/// </summary>
/// <param name="independent">Prune each weight independently (<c>random-bernoulli</c>) instead of exactly k
/// (<c>random</c>).</param>
public sealed class RandomImportance(bool independent = false) : IWeightImportance
{
    /// <summary>Whether each weight is pruned on its own with probability s rather than exactly k of them.</summary>
    public bool Independent { get; } = independent;

    /// <inheritdoc/>
    public string Name => Independent ? "random-bernoulli" : "random";

    /// <inheritdoc/>
    public bool NeedsGradients => false;

    /// <inheritdoc/>
    public Tensor Score(string name, int index, Tensor weight, ImportanceContext context)
    {
        ulong seed = unchecked(((ulong)(uint)context.Seed * 1_000_003UL) + ((ulong)index * 7919UL) + ((ulong)context.Step * 104_729UL) + 1UL);
        using var generator = new Generator(seed);
        using var scores = rand(weight.shape, generator: generator, dtype: ScalarType.Float64);
        return scores.to(weight.device);
    }
}

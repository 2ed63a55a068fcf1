using static TorchSharp.torch;

namespace Compress.Engine.Pruning.Importance;

/// <summary>
/// Random: uniform scores from a generator seeded by the run's seed, the tensor's position in the scope and the step,
/// so the same seed prunes the same entries on any device, and each step of a schedule draws anew. Pruning the k
/// lowest of i.i.d. uniform scores is the exact-count form of pruning each weight with probability s.
/// </summary>
public sealed class RandomImportance : IWeightImportance
{
    /// <inheritdoc/>
    public string Name => "random";

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

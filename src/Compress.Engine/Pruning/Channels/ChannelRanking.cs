namespace Compress.Engine.Pruning.Channels;

/// <summary>How <see cref="ChannelPruner"/> picks the channels of a group to keep.</summary>
public enum ChannelRanking
{
    /// <summary>
    /// Largest L2 (Frobenius) norm of the consumers' input-channel weight slices first, the EfficientML.ai lab's
    /// importance: <c>sqrt(sum over consumers of ||W[:, c]||^2)</c>. Kept channels are sorted by importance.
    /// </summary>
    L2,

    /// <summary>As <see cref="L2"/> with the L1 norm: <c>sum over consumers of sum |W[:, c]|</c>.</summary>
    L1,

    /// <summary>Keep the first k channels in their current order (the lab's first, unsorted experiment).</summary>
    Naive,

    /// <summary>
    /// First-order Taylor (gradient magnitude, per channel): the sum of |w x dL/dw| over every tensor entry the channel
    /// indexes (producer rows, norm vectors, consumer columns, depthwise filters). Needs
    /// <see cref="ChannelPruningOptions.Gradients"/>.
    /// </summary>
    Gradient,

    /// <summary>Seeded uniform scores per channel (<see cref="ChannelPruningOptions.Seed"/>): the random baseline.</summary>
    Random,
}

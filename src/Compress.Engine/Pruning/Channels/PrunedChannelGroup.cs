namespace Compress.Engine.Pruning.Channels;

/// <summary>One channel group of a <see cref="ChannelPruner"/> plan: what it keeps, in the pruned model's order.</summary>
/// <param name="Group">The group as analysed (members, channel count, exclusion reason).</param>
/// <param name="Ratio">The ratio asked for this group (the overall ratio under global ranking; 0 when excluded).</param>
/// <param name="KeptIndices">Original indices of the kept channels, in their new order: channel i of the pruned
/// model is channel <c>KeptIndices[i]</c> of the original (most important first for L1/L2 ranking; ascending for naive
/// ranking and excluded groups).</param>
public sealed record PrunedChannelGroup(ChannelGroup Group, double Ratio, IReadOnlyList<int> KeptIndices)
{
    /// <summary>Channels before pruning.</summary>
    public int ChannelsBefore => Group.Channels;

    /// <summary>Channels after pruning.</summary>
    public int ChannelsAfter => KeptIndices.Count;

    /// <summary>What else happened to the group: removed channels with all-zero filters whose constant output was
    /// folded into the consumers' biases, or why it could not be (then it is dropped). Null when nothing to say.</summary>
    public string? Note { get; init; }
}

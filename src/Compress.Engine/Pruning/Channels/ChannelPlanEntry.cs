namespace Compress.Engine.Pruning.Channels;

/// <summary>
/// One channel group of a plan as plain data (the report's <c>channels</c> and a plan file's <c>groups</c>): who holds
/// the channels, what is kept, and why nothing is when the group is excluded.
/// </summary>
/// <param name="Id">Group id (graph order; 0 is the network input).</param>
/// <param name="ChannelsBefore">Channels before pruning.</param>
/// <param name="ChannelsAfter">Channels kept.</param>
/// <param name="Ratio">Ratio asked for (0 when excluded).</param>
/// <param name="Producers">Layers whose out channels are the group.</param>
/// <param name="BatchNorms">Norms over the group.</param>
/// <param name="Consumers">Layers reading the group.</param>
/// <param name="Others">Other tensors indexed by the group (depthwise convolutions, per-channel constants).</param>
/// <param name="Blocks">Blocks of a grouped convolution that lose channels equally (1: none).</param>
/// <param name="Reorderable">Whether the kept channels may be in importance order.</param>
/// <param name="ExcludedReason">Why the group keeps every channel, or null.</param>
/// <param name="Kept">Original indices of the kept channels, in their new order.</param>
/// <param name="Note">Removed dead channels folded into consumers' biases, or why not (<see cref="PrunedChannelGroup.Note"/>).</param>
public sealed record ChannelPlanEntry(int Id, int ChannelsBefore, int ChannelsAfter, double Ratio, IReadOnlyList<string> Producers,
    IReadOnlyList<string> BatchNorms, IReadOnlyList<string> Consumers, IReadOnlyList<string> Others, int Blocks,
    bool Reorderable, string? ExcludedReason, IReadOnlyList<int> Kept, string? Note = null)
{
    /// <summary>The entry of <paramref name="group"/>.</summary>
    public static ChannelPlanEntry Of(PrunedChannelGroup group)
    {
        ArgumentNullException.ThrowIfNull(group);
        var g = group.Group;
        return new ChannelPlanEntry(g.Id, group.ChannelsBefore, group.ChannelsAfter, group.Ratio, g.Producers, g.BatchNorms,
            [.. g.Consumers.Select(c => c.Module)], g.Others, g.Blocks, g.Reorderable, g.ExcludedReason, group.KeptIndices, group.Note);
    }
}

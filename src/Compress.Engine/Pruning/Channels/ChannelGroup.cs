namespace Compress.Engine.Pruning.Channels;

/// <summary>
/// Channels that must shrink together: the out channels of every producer, the norms over them, the input channels of
/// every consumer and every other tensor indexed by them (a depthwise convolution's filters, a per-channel constant).
/// Residual additions and channel-wise gates merge the groups of their inputs (a ResNet stage, its downsample and, where
/// the first block has none, what feeds the stage share one group); a concatenation keeps each input's group, mapped to
/// its range of the consumer's input channels.
/// </summary>
/// <param name="Id">Position in graph order (0 is the network input's group).</param>
/// <param name="Channels">Channel count.</param>
/// <param name="Producers">Convolutions and linear layers whose out channels are the group (module names, graph order).</param>
/// <param name="BatchNorms">BatchNorms and LayerNorms over the group's channels.</param>
/// <param name="Consumers">Layers whose input channels include the group.</param>
/// <param name="ExcludedReason">Why the group cannot or must not be pruned (<see cref="ChannelDependencyAnalyzer"/>'s
/// reasons, joined by "; " when several apply); null when it is prunable.</param>
public sealed record ChannelGroup(int Id, int Channels, IReadOnlyList<string> Producers, IReadOnlyList<string> BatchNorms,
    IReadOnlyList<ChannelConsumer> Consumers, string? ExcludedReason)
{
    /// <summary>True when the group may lose channels.</summary>
    public bool IsPrunable => ExcludedReason is null;

    /// <summary>Other layers or constants indexed by the group's channels: depthwise convolutions (whose group count
    /// follows the channels), per-channel constants (a layer scale).</summary>
    public IReadOnlyList<string> Others { get; init; } = [];

    /// <summary>
    /// 1, or the number of blocks a grouped convolution splits the channels into: then every block loses the same
    /// number of channels (at least one stays in each), so the convolution keeps its group count.
    /// </summary>
    public int Blocks { get; init; } = 1;

    /// <summary>
    /// Whether the kept channels may be sorted by importance. False when the channels appear split, repeated or
    /// interleaved somewhere in the graph (a slice through the group, a channel shuffle): then they keep their order.
    /// </summary>
    public bool Reorderable { get; init; } = true;
}

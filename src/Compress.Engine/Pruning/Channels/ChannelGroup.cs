namespace Compress.Engine.Pruning.Channels;

/// <summary>
/// Channels that must shrink together: the out channels of every producer, the BatchNorms over them and the input
/// channels of every consumer. Residual additions merge the groups of their inputs (a ResNet stage, its downsample
/// and, where the first block has none, what feeds the stage share one group).
/// </summary>
/// <param name="Id">Position in graph order (0 is the network input's group).</param>
/// <param name="Channels">Channel count.</param>
/// <param name="Producers">Convolutions and linear layers whose out channels are the group (module names, graph order).</param>
/// <param name="BatchNorms">BatchNorms over the group's channels.</param>
/// <param name="Consumers">Layers whose input channels are the group.</param>
/// <param name="ExcludedReason">Why the group cannot or must not be pruned (<see cref="ChannelDependencyAnalyzer"/>'s
/// reasons, joined by "; " when several apply); null when it is prunable.</param>
public sealed record ChannelGroup(int Id, int Channels, IReadOnlyList<string> Producers, IReadOnlyList<string> BatchNorms,
    IReadOnlyList<ChannelConsumer> Consumers, string? ExcludedReason)
{
    /// <summary>True when the group may lose channels.</summary>
    public bool IsPrunable => ExcludedReason is null;
}

namespace Compress.Engine.Pruning.Channels;

/// <summary>What <see cref="ChannelPruner"/> removes; checked by <see cref="ChannelPruner.Plan"/>.</summary>
public sealed record ChannelPruningOptions
{
    /// <summary>
    /// Fraction of each prunable group's channels to remove, in [0, 1): a group of c channels keeps
    /// <c>max(1, round((1 - ratio) * c))</c>, rounding half to even like the lab's Python <c>int(round(...))</c>.
    /// With <see cref="GlobalRanking"/>, the fraction of all prunable channels together. Default 0.3 (the
    /// EfficientML.ai lab's uniform ratio). Used for every group that <see cref="LayerRatios"/> does not name.
    /// </summary>
    public double Ratio { get; init; } = 0.3;

    /// <summary>
    /// Per-layer ratios by module name: a producer (e.g. <c>backbone.conv2</c>, <c>layer3.0.downsample.0</c>) or
    /// BatchNorm of a prunable group sets that group's ratio. Default null (the uniform <see cref="Ratio"/>).
    /// Not together with <see cref="GroupRatios"/> or <see cref="GlobalRanking"/>.
    /// </summary>
    public IReadOnlyDictionary<string, double>? LayerRatios { get; init; }

    /// <summary>
    /// One ratio per prunable group, in graph order (for <c>vgg-cifar</c> with <c>backbone.conv7</c> ignored: the lab's
    /// list of seven, for <c>backbone.conv0..6</c>). Default null (the uniform <see cref="Ratio"/>). Not together
    /// with <see cref="LayerRatios"/> or <see cref="GlobalRanking"/>.
    /// </summary>
    public IReadOnlyList<double>? GroupRatios { get; init; }

    /// <summary>How channels are ranked within a group. Default <see cref="ChannelRanking.L2"/> (the lab's choice).</summary>
    public ChannelRanking Ranking { get; init; } = ChannelRanking.L2;

    /// <summary>
    /// Rank the channels of all prunable groups together instead of group by group: each channel's importance is
    /// divided by the mean importance of its group (so wide and narrow layers compare; Torch-Pruning's default
    /// normaliser), and the most important <c>round((1 - Ratio) * total)</c> channels are kept, at least one per group.
    /// Default false. Needs <see cref="ChannelRanking.L2"/> or <see cref="ChannelRanking.L1"/>.
    /// </summary>
    public bool GlobalRanking { get; init; }

    /// <summary>
    /// Module names whose channel groups are left whole: a group in which one of them is a producer or BatchNorm is
    /// excluded entirely (for a ResNet stage that is every block of the stage). Default none.
    /// </summary>
    public IReadOnlyList<string> IgnoredLayers { get; init; } = [];

    /// <summary>
    /// Rounds each group's kept channel count to the nearest multiple of this (at least one multiple, at most the group's
    /// channels), as Torch-Pruning's <c>round_to</c> does: CPU kernels (ONNX Runtime's MLAS) work on blocks of 8 or 16
    /// channels, so widths such as 179 or 45 leave part of each block idle. Default 1: exactly the lab's
    /// <c>round((1 - ratio) x channels)</c>.
    /// </summary>
    public int RoundTo { get; init; } = 1;

    /// <summary>
    /// <see cref="ChannelRanking.Gradient"/>: the loss gradient of each parameter (by name, e.g. from
    /// <see cref="Importance.GradientCollector"/>), read, not owned. Default null.
    /// </summary>
    public IReadOnlyDictionary<string, TorchSharp.torch.Tensor>? Gradients { get; init; }

    /// <summary><see cref="ChannelRanking.Random"/>: the seed of the scores. Default 0.</summary>
    public int Seed { get; init; }
}

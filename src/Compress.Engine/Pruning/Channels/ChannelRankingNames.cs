namespace Compress.Engine.Pruning.Channels;

/// <summary>The names a spec, the build step and the command line use for <see cref="ChannelRanking"/>.</summary>
public static class ChannelRankingNames
{
    /// <summary><c>l2</c>, <c>l1</c>, <c>naive</c>, in the order of <see cref="ChannelRanking"/>.</summary>
    public static IReadOnlyList<string> All { get; } = Shared.PruningChoices.Rankings;

    /// <summary>The ranking named <paramref name="name"/> (case-insensitive); null when the name is not one of <see cref="All"/>.</summary>
    public static ChannelRanking? Parse(string? name) => name?.Trim().ToLowerInvariant() switch
    {
        "l2" => ChannelRanking.L2,
        "l1" => ChannelRanking.L1,
        "naive" => ChannelRanking.Naive,
        "gradient" => ChannelRanking.Gradient,
        "random" => ChannelRanking.Random,
        _ => null,
    };
}

namespace Compress.Engine.Training;

/// <summary>The names users write for <see cref="MemoryFormat"/>: <c>auto</c>, <c>nchw</c>, <c>channels-last</c>.</summary>
public static class MemoryFormatNames
{
    /// <summary>Every accepted name, in the order the docs list them.</summary>
    public static IReadOnlyList<string> All { get; } = Shared.PruningChoices.MemoryFormats;

    /// <summary>The format named <paramref name="name"/> (case-insensitive), or null.</summary>
    public static MemoryFormat? Parse(string? name) => name?.Trim().ToLowerInvariant() switch
    {
        "auto" => MemoryFormat.Auto,
        "nchw" => MemoryFormat.Nchw,
        "channels-last" => MemoryFormat.ChannelsLast,
        _ => null,
    };

    /// <summary>The name of <paramref name="format"/>.</summary>
    public static string NameOf(MemoryFormat format) => format switch
    {
        MemoryFormat.Nchw => "nchw",
        MemoryFormat.ChannelsLast => "channels-last",
        _ => "auto",
    };
}

/// <summary>
/// How the trainer lays out the batches and the 4-d weights in memory while it trains. Values keep their NCHW shape
/// either way; only the strides differ, and the weights are handed back contiguous (NCHW) when training ends.
/// </summary>
public enum MemoryFormat
{
    /// <summary>
    /// Channels-last when the model's convolutions are wide enough for it to pay (<see cref="ChannelsLastLayout.Decide"/>),
    /// NCHW otherwise. The default.
    /// </summary>
    Auto,

    /// <summary>Contiguous NCHW, libtorch's default layout.</summary>
    Nchw,

    /// <summary>Channels-last (NHWC strides), which libtorch's oneDNN convolutions run faster on wide layers.</summary>
    ChannelsLast,
}

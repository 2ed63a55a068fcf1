namespace Compress.Engine.Training;

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

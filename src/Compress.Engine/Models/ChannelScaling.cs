namespace Compress.Engine.Models;

/// <summary>The one width rule every architecture uses, so stems, blocks and shortcuts always agree.</summary>
internal static class ChannelScaling
{
    /// <summary><c>max(1, round(c * w))</c> with .NET's default round-half-to-even (Python's <c>round</c> agrees).</summary>
    public static int Scale(int channels, double widthMultiplier) =>
        Math.Max(1, (int)Math.Round(channels * widthMultiplier));

    /// <summary>
    /// The out channels of producer <paramref name="module"/>: <see cref="ModelOptions.Channels"/>' entry when it has
    /// one (a channel-pruned model), else the architecture's <paramref name="fallback"/>.
    /// </summary>
    public static int Width(ModelOptions options, string module, int fallback) =>
        options.Channels is { } channels && channels.TryGetValue(module, out int width) ? width : fallback;
}

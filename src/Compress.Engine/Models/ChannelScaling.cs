namespace Compress.Engine.Models;

/// <summary>The one width rule every architecture uses, so stems, blocks and shortcuts always agree.</summary>
internal static class ChannelScaling
{
    /// <summary><c>max(1, round(c * w))</c> with .NET's default round-half-to-even (Python's <c>round</c> agrees).</summary>
    public static int Scale(int channels, double widthMultiplier) =>
        Math.Max(1, (int)Math.Round(channels * widthMultiplier));
}

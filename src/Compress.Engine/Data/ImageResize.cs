namespace Compress.Engine.Data;

/// <summary>
/// Resampling of uint8 CHW images in managed code: bilinear with antialiasing (a triangle filter widened by the
/// downscale factor, as PIL's and torchvision's antialiased <c>Resize</c> do), the shorter side first, then a centre
/// crop; and conversion between grey and RGB (PIL's <c>L</c> weights).
/// </summary>
internal static class ImageResize
{
    /// <summary>
    /// Resizes <paramref name="source"/> (<paramref name="from"/>) so its shorter side is <paramref name="shorter"/>,
    /// then crops the centre <paramref name="to"/>.Height x <paramref name="to"/>.Width; channels must already agree.
    /// </summary>
    public static byte[] ShorterSideCenterCrop(ReadOnlySpan<byte> source, ImageShape from, int shorter, ImageShape to)
    {
        // torchvision's sizes: the longer side is int(shorter * long / short); the crop starts at round((size - crop) / 2).
        bool tall = from.Height >= from.Width;
        int longer = (int)((long)shorter * (tall ? from.Height : from.Width) / (tall ? from.Width : from.Height));
        int h = Math.Max(to.Height, tall ? longer : shorter);
        int w = Math.Max(to.Width, tall ? shorter : longer);
        int top = (int)Math.Round((h - to.Height) / 2.0), left = (int)Math.Round((w - to.Width) / 2.0);
        var result = new byte[to.Size];
        var rows = Weights(from.Height, h, top, to.Height);
        var columns = Weights(from.Width, w, left, to.Width);
        int plane = from.Height * from.Width;
        var horizontal = new float[from.Height * to.Width];
        for (int c = 0; c < from.Channels; c++)
        {
            var src = source.Slice(c * plane, plane);
            for (int y = 0; y < from.Height; y++)
            {
                var row = src.Slice(y * from.Width, from.Width);
                for (int x = 0; x < to.Width; x++)
                {
                    var (first, weights) = columns[x];
                    float sum = 0;
                    for (int k = 0; k < weights.Length; k++) sum += weights[k] * row[first + k];
                    horizontal[(y * to.Width) + x] = sum;
                }
            }
            var dst = result.AsSpan(c * to.Height * to.Width, to.Height * to.Width);
            for (int y = 0; y < to.Height; y++)
            {
                var (first, weights) = rows[y];
                for (int x = 0; x < to.Width; x++)
                {
                    float sum = 0;
                    for (int k = 0; k < weights.Length; k++) sum += weights[k] * horizontal[((first + k) * to.Width) + x];
                    dst[(y * to.Width) + x] = (byte)Math.Clamp((int)MathF.Round(sum), 0, 255);
                }
            }
        }
        return result;
    }

    /// <summary>Grey to RGB (the grey plane three times) or RGB to grey as PIL's <c>convert("L")</c>
    /// (<c>(19595 R + 38470 G + 7471 B + 32768) &gt;&gt; 16</c>, i.e. 0.299, 0.587, 0.114).</summary>
    public static byte[] ConvertChannels(ReadOnlySpan<byte> source, ImageShape from, int channels)
    {
        int plane = from.Height * from.Width;
        if (from.Channels == channels) return source.ToArray();
        var result = new byte[channels * plane];
        if (from.Channels == 1 && channels == 3)
        {
            for (int c = 0; c < 3; c++) source.CopyTo(result.AsSpan(c * plane, plane));
            return result;
        }
        if (from.Channels == 3 && channels == 1)
        {
            for (int i = 0; i < plane; i++)
                result[i] = (byte)(((source[i] * 19595) + (source[plane + i] * 38470) + (source[(2 * plane) + i] * 7471) + 0x8000) >> 16);
            return result;
        }
        throw new ArgumentException($"Cannot convert {from.Channels} channel(s) to {channels}.", nameof(channels));
    }

    /// <summary>
    /// For each output position <c>o</c> in <c>[offset, offset + count)</c> of a <paramref name="input"/> to
    /// <paramref name="output"/> resize, the first input index and the normalised triangle-filter weights.
    /// </summary>
    private static (int First, float[] Weights)[] Weights(int input, int output, int offset, int count)
    {
        double scale = (double)input / output;
        double support = Math.Max(1.0, scale); // widened when shrinking: antialiasing
        var result = new (int, float[])[count];
        for (int o = 0; o < count; o++)
        {
            double center = ((o + offset) + 0.5) * scale;
            int first = Math.Max(0, (int)Math.Floor(center - support));
            int last = Math.Min(input - 1, (int)Math.Ceiling(center + support));
            var weights = new float[last - first + 1];
            double total = 0;
            for (int i = first; i <= last; i++)
            {
                double distance = Math.Abs((i + 0.5 - center) / support);
                double weight = Math.Max(0, 1 - distance);
                weights[i - first] = (float)weight;
                total += weight;
            }
            if (total <= 0)
            {
                weights = [1f];
                first = Math.Clamp((int)center, 0, input - 1);
                total = 1;
            }
            for (int k = 0; k < weights.Length; k++) weights[k] = (float)(weights[k] / total);
            result[o] = (first, weights);
        }
        return result;
    }
}

namespace Compress.Engine.Data;

/// <summary>
/// Pixel work of the batch loader: uint8 CHW in, normalised float CHW out through a per-channel look-up table, with
/// the CIFAR augmentation (zero-pad, crop, horizontal flip) fused into the same pass so no padded copy is made.
/// </summary>
internal static class Augmentation
{
    /// <summary>Converts every pixel through <paramref name="table"/> (<c>[channel * 256 + value]</c>).</summary>
    public static void Copy(ReadOnlySpan<byte> source, Span<float> target, ImageShape shape, float[] table)
    {
        int plane = shape.Height * shape.Width;
        for (int c = 0; c < shape.Channels; c++)
        {
            var lut = table.AsSpan(c * 256, 256);
            var src = source.Slice(c * plane, plane);
            var dst = target.Slice(c * plane, plane);
            for (int i = 0; i < plane; i++) dst[i] = lut[src[i]];
        }
    }

    /// <summary>
    /// Pads the image with zero pixels, crops it back to its size shifted by (<paramref name="dx"/>,
    /// <paramref name="dy"/>), then mirrors it left-right when <paramref name="flip"/> is set (torchvision's
    /// <c>RandomCrop(padding)</c> followed by <c>RandomHorizontalFlip</c>): <c>out[y, x] = in[y + dy, x' + dx]</c>
    /// with <c>x' = W - 1 - x</c> when flipped, and a zero pixel where that falls outside the image.
    /// </summary>
    public static void CropFlip(ReadOnlySpan<byte> source, Span<float> target, ImageShape shape, float[] table, int dx,
        int dy, bool flip)
    {
        int h = shape.Height, w = shape.Width, plane = h * w;
        for (int c = 0; c < shape.Channels; c++)
        {
            var lut = table.AsSpan(c * 256, 256);
            float zero = lut[0];
            var src = source.Slice(c * plane, plane);
            var dst = target.Slice(c * plane, plane);
            for (int y = 0; y < h; y++)
            {
                var row = dst.Slice(y * w, w);
                int sy = y + dy;
                if ((uint)sy >= (uint)h)
                {
                    row.Fill(zero);
                    continue;
                }
                var srcRow = src.Slice(sy * w, w);
                for (int x = 0; x < w; x++)
                {
                    int sx = (flip ? w - 1 - x : x) + dx;
                    row[x] = (uint)sx < (uint)w ? lut[srcRow[sx]] : zero;
                }
            }
        }
    }

    /// <summary>Images at least this tall and wide get <see cref="ResizedCropFlip"/> (ImageNet-style) instead of the
    /// CIFAR pad-and-crop.</summary>
    public const int ResizedCropMinSide = 64;

    /// <summary>
    /// torchvision's <c>RandomResizedCrop</c> parameters (scale 0.08 to 1 of the area, aspect ratio 3/4 to 4/3 drawn
    /// log-uniformly, ten tries, then the centre crop clamped to the ratio range): the crop's left, top, width, height.
    /// </summary>
    public static (int X, int Y, int Width, int Height) ResizedCropBox(int height, int width, Random rng)
    {
        double area = (double)height * width;
        double logLow = Math.Log(3.0 / 4), logHigh = Math.Log(4.0 / 3);
        for (int attempt = 0; attempt < 10; attempt++)
        {
            double target = area * (0.08 + (rng.NextDouble() * (1 - 0.08)));
            double ratio = Math.Exp(logLow + (rng.NextDouble() * (logHigh - logLow)));
            int w = (int)Math.Round(Math.Sqrt(target * ratio));
            int h = (int)Math.Round(Math.Sqrt(target / ratio));
            if (w > 0 && h > 0 && w <= width && h <= height)
                return (rng.Next(width - w + 1), rng.Next(height - h + 1), w, h);
        }
        double inRatio = (double)width / height;
        int cw = width, ch = height;
        if (inRatio < 3.0 / 4) ch = (int)Math.Round(cw / (3.0 / 4));
        else if (inRatio > 4.0 / 3) cw = (int)Math.Round(ch * (4.0 / 3));
        return ((width - cw) / 2, (height - ch) / 2, cw, ch);
    }

    /// <summary>
    /// Crops the box (<paramref name="x0"/>, <paramref name="y0"/>, <paramref name="cw"/>, <paramref name="ch"/>) and
    /// resizes it bilinearly (half-pixel centres, as <c>interpolate(align_corners=False)</c>) back to the image's size,
    /// mirrored left-right when <paramref name="flip"/> is set; values go through <paramref name="table"/>.
    /// </summary>
    public static void ResizedCropFlip(ReadOnlySpan<byte> source, Span<float> target, ImageShape shape, float[] table,
        int x0, int y0, int cw, int ch, bool flip)
    {
        int h = shape.Height, w = shape.Width, plane = h * w;
        double sy = (double)ch / h, sx = (double)cw / w;
        for (int c = 0; c < shape.Channels; c++)
        {
            var lut = table.AsSpan(c * 256, 256);
            var src = source.Slice(c * plane, plane);
            var dst = target.Slice(c * plane, plane);
            for (int y = 0; y < h; y++)
            {
                double fy = Math.Clamp(((y + 0.5) * sy) - 0.5, 0, ch - 1);
                int y1 = (int)fy, y2 = Math.Min(y1 + 1, ch - 1);
                float wy = (float)(fy - y1);
                var row1 = src.Slice((y0 + y1) * w, w);
                var row2 = src.Slice((y0 + y2) * w, w);
                for (int x = 0; x < w; x++)
                {
                    int ox = flip ? w - 1 - x : x;
                    double fx = Math.Clamp(((ox + 0.5) * sx) - 0.5, 0, cw - 1);
                    int x1 = (int)fx, x2 = Math.Min(x1 + 1, cw - 1);
                    float wx = (float)(fx - x1);
                    float top = (lut[row1[x0 + x1]] * (1 - wx)) + (lut[row1[x0 + x2]] * wx);
                    float bottom = (lut[row2[x0 + x1]] * (1 - wx)) + (lut[row2[x0 + x2]] * wx);
                    dst[(y * w) + x] = (top * (1 - wy)) + (bottom * wy);
                }
            }
        }
    }
}

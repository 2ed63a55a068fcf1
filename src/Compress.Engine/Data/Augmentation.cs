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
}

using System.Buffers.Binary;
using SkiaSharp;

namespace Compress.Engine.Tests.Analysis;

/// <summary>Checks that a file is a complete PNG of a given size, and that nothing else is in its folder.</summary>
internal static class PngAssert
{
    /// <summary>The signature, an IHDR chunk first with this width and height, a decodable image that is not blank.</summary>
    public static void IsPng(string path, int width, int height)
    {
        byte[] bytes = File.ReadAllBytes(path);
        Assert.True(bytes.Length > 1000, $"{bytes.Length} bytes");
        Assert.Equal(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }, bytes[..8]);
        Assert.Equal(13, BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(8)));
        Assert.Equal("IHDR"u8.ToArray(), bytes[12..16]);
        Assert.Equal(width, BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(16)));
        Assert.Equal(height, BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(20)));
        Assert.Equal("IEND"u8.ToArray(), bytes[^8..^4]);
        using var bitmap = SKBitmap.Decode(bytes);
        Assert.NotNull(bitmap);
        Assert.Equal((width, height), (bitmap.Width, bitmap.Height));
        var colours = new HashSet<uint>();
        for (int y = 0; y < bitmap.Height; y += 5)
            for (int x = 0; x < bitmap.Width; x += 5) colours.Add((uint)bitmap.GetPixel(x, y));
        Assert.True(colours.Count > 3, $"{colours.Count} colours");
    }

    /// <summary>The folder holds exactly these files (no temp file left behind).</summary>
    public static void OnlyFiles(string folder, params string[] names) =>
        Assert.Equal(names.Order(), Directory.GetFiles(folder).Select(f => Path.GetFileName(f)!).Order());
}

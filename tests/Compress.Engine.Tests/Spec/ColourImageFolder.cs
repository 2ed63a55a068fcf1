using SkiaSharp;

namespace Compress.Engine.Tests.Spec;

/// <summary>
/// An image-folder dataset a tiny network learns in a couple of epochs: each class is a colour, each image that colour
/// with seeded per-pixel noise (train/&lt;class&gt;/*.png, test/&lt;class&gt;/*.png). Pruning hard enough still breaks it,
/// so a gate on accuracy separates low rates from high ones.
/// </summary>
internal static class ColourImageFolder
{
    private static readonly SKColor[] Colours =
        [new(220, 40, 40), new(40, 200, 40), new(40, 60, 220), new(220, 200, 40)];

    public static string Write(string folder, int trainPerClass = 48, int testPerClass = 24, int size = 12, int seed = 3)
    {
        var random = new Random(seed);
        foreach (var (split, count) in new[] { ("train", trainPerClass), ("test", testPerClass) })
        {
            for (int c = 0; c < Colours.Length; c++)
            {
                string dir = Path.Combine(folder, split, "c" + c);
                Directory.CreateDirectory(dir);
                for (int i = 0; i < count; i++)
                {
                    using var bitmap = new SKBitmap(new SKImageInfo(size, size, SKColorType.Rgba8888, SKAlphaType.Premul));
                    for (int y = 0; y < size; y++)
                        for (int x = 0; x < size; x++)
                        {
                            var b = Colours[c];
                            byte Noisy(byte v) => (byte)Math.Clamp(v + random.Next(-30, 31), 0, 255);
                            bitmap.SetPixel(x, y, new SKColor(Noisy(b.Red), Noisy(b.Green), Noisy(b.Blue)));
                        }
                    using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
                    File.WriteAllBytes(Path.Combine(dir, $"{i:D3}.png"), data.ToArray());
                }
            }
        }
        return folder;
    }
}

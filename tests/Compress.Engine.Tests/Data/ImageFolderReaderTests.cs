using Compress.Engine.Data;
using Compress.Engine.Diagnostics;
using SkiaSharp;

namespace Compress.Engine.Tests.Data;

public class ImageFolderReaderTests
{
    /// <summary>Colour of pixel (x, y) of image number <paramref name="n"/>: every channel and position differs.</summary>
    private static SKColor Colour(int n, int x, int y) =>
        new((byte)((n * 40) + (x * 10)), (byte)((n * 20) + (y * 30) + 5), (byte)(200 - (n * 10) - x - y));

    private static void WritePng(string path, int n, int width = 4, int height = 3)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul));
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
                bitmap.SetPixel(x, y, Colour(n, x, y));
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        File.WriteAllBytes(path, data.ToArray());
    }

    private static void WriteGreyPng(string path, byte value)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(4, 3, SKColorType.Gray8, SKAlphaType.Opaque));
        bitmap.Erase(new SKColor(value, value, value));
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        File.WriteAllBytes(path, data.ToArray());
    }

    [Fact]
    public void Read_PngFolders_ExactRgbPlanesAndOrdinalClassOrder()
    {
        using var dir = new TempDirectory();
        // Ordinal order puts "Zebra" (Z = 0x5A) before "apple" (a = 0x61); a culture-aware sort would not.
        WritePng(dir.Combine("train", "apple", "b.png"), 1);
        WritePng(dir.Combine("train", "apple", "a.png"), 0);
        WritePng(dir.Combine("train", "Zebra", "z.png"), 2);
        WritePng(dir.Combine("test", "apple", "t.png"), 3);
        File.WriteAllText(dir.Combine("train", "apple", "notes.txt"), "not an image");

        var splits = ImageFolderReader.Read(dir.Path);

        Assert.Equal(["Zebra", "apple"], splits.Train.ClassNames);
        Assert.Equal(new ImageShape(3, 3, 4), splits.Train.Shape);
        Assert.Equal(3, splits.Train.Count);
        Assert.Equal(1, splits.Test.Count);
        // Files in ordinal order inside each class: Zebra/z (n=2), apple/a (n=0), apple/b (n=1).
        int[] expectedN = [2, 0, 1];
        Assert.Equal([0, 1, 1], Enumerable.Range(0, 3).Select(splits.Train.GetLabel));
        for (int i = 0; i < 3; i++)
        {
            var pixels = splits.Train.GetPixels(i);
            for (int y = 0; y < 3; y++)
                for (int x = 0; x < 4; x++)
                {
                    var c = Colour(expectedN[i], x, y);
                    int o = (y * 4) + x;
                    Assert.Equal(c.Red, pixels[o]);
                    Assert.Equal(c.Green, pixels[12 + o]);
                    Assert.Equal(c.Blue, pixels[24 + o]);
                }
        }
        Assert.Equal(1, splits.Test.GetLabel(0));
        Assert.Equal(Colour(3, 2, 1).Green, splits.Test.GetPixels(0)[12 + 6]);
    }

    [Fact]
    public void Read_AllGreyscale_OneChannel()
    {
        using var dir = new TempDirectory();
        WriteGreyPng(dir.Combine("train", "0", "a.png"), 17);
        WriteGreyPng(dir.Combine("train", "1", "a.png"), 200);
        WriteGreyPng(dir.Combine("test", "1", "a.png"), 99);

        var splits = ImageFolderReader.Read(dir.Path);

        Assert.Equal(new ImageShape(1, 3, 4), splits.Train.Shape);
        Assert.All(splits.Train.GetPixels(0).ToArray(), p => Assert.Equal(17, p));
        Assert.All(splits.Train.GetPixels(1).ToArray(), p => Assert.Equal(200, p));
        Assert.All(splits.Test.GetPixels(0).ToArray(), p => Assert.Equal(99, p));
    }

    [Fact]
    public void Read_GreyMixedWithColour_ThreeChannels()
    {
        using var dir = new TempDirectory();
        WriteGreyPng(dir.Combine("train", "0", "a.png"), 17);
        WritePng(dir.Combine("train", "1", "a.png"), 0);
        WriteGreyPng(dir.Combine("test", "0", "a.png"), 99);

        var splits = ImageFolderReader.Read(dir.Path);

        Assert.Equal(3, splits.Train.Shape.Channels);
        Assert.All(splits.Test.GetPixels(0).ToArray(), p => Assert.Equal(99, p));
    }

    [Fact]
    public void Read_CorruptFile_Cmp0204NamesIt()
    {
        using var dir = new TempDirectory();
        WritePng(dir.Combine("train", "a", "good.png"), 0);
        string bad = dir.Combine("train", "a", "bad.png");
        File.WriteAllBytes(bad, [0x89, 0x50, 0x4E, 0x47, 1, 2, 3, 4, 5]);
        WritePng(dir.Combine("test", "a", "t.png"), 1);

        var e = Assert.Throws<CompressException>(() => ImageFolderReader.Read(dir.Path));

        Assert.Equal(DiagnosticCode.ImageDecodeFailed, e.Code);
        Assert.Equal(bad, e.FilePath);
        Assert.Contains(bad, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_TruncatedPng_Cmp0204()
    {
        using var dir = new TempDirectory();
        string path = dir.Combine("train", "a", "cut.png");
        WritePng(path, 0, 16, 16);
        byte[] bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
        WritePng(dir.Combine("test", "a", "t.png"), 1, 16, 16);

        var e = Assert.Throws<CompressException>(() => ImageFolderReader.Read(dir.Path));

        Assert.Equal(DiagnosticCode.ImageDecodeFailed, e.Code);
        Assert.Equal(path, e.FilePath);
    }

    [Fact]
    public void Read_DifferentSizes_Cmp0203NamesBothSizes()
    {
        using var dir = new TempDirectory();
        WritePng(dir.Combine("train", "a", "1.png"), 0, 4, 3);
        string odd = dir.Combine("train", "a", "2.png");
        WritePng(odd, 0, 5, 3);
        WritePng(dir.Combine("test", "a", "t.png"), 1);

        var e = Assert.Throws<CompressException>(() => ImageFolderReader.Read(dir.Path));

        Assert.Equal(DiagnosticCode.DatasetMalformed, e.Code);
        Assert.Equal(odd, e.FilePath);
        Assert.Contains("5x3", e.Message, StringComparison.Ordinal);
        Assert.Contains("4x3", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_TestClassUnknownToTrain_Cmp0203()
    {
        using var dir = new TempDirectory();
        WritePng(dir.Combine("train", "a", "1.png"), 0);
        WritePng(dir.Combine("test", "b", "1.png"), 0);

        var e = Assert.Throws<CompressException>(() => ImageFolderReader.Read(dir.Path));

        Assert.Equal(DiagnosticCode.DatasetMalformed, e.Code);
        Assert.Contains("'b'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_NoTestFolder_Cmp0201()
    {
        using var dir = new TempDirectory();
        WritePng(dir.Combine("train", "a", "1.png"), 0);

        var e = Assert.Throws<CompressException>(() => ImageFolderReader.Read(dir.Path));

        Assert.Equal(DiagnosticCode.DatasetNotFound, e.Code);
        Assert.Contains("'test'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_MixedSizesGreyAndRgbWithTarget_EveryImageAtTheModelsInput()
    {
        using var dir = new TempDirectory();
        WritePng(dir.Combine("train", "a", "wide.png"), 0, width: 40, height: 20);
        WritePng(dir.Combine("train", "a", "tall.png"), 1, width: 9, height: 30);
        WriteGreyPng(dir.Combine("train", "b", "grey.png"), 77);
        WritePng(dir.Combine("test", "b", "small.png"), 2, width: 4, height: 3);
        var splits = ImageFolderReader.Read(dir.Path, new ImageShape(3, 16, 16));
        Assert.Equal(new ImageShape(3, 16, 16), splits.Train.Shape);
        Assert.Equal(new ImageShape(3, 16, 16), splits.Test.Shape);
        Assert.Equal(3, splits.Train.Count);
        Assert.Equal(18, splits.ResizeShorterSide); // round(16 / 0.875)
        // The grey image is the same grey in all three channels; labels follow the class folders.
        int b = Enumerable.Range(0, 3).Single(i => splits.Train.GetLabel(i) == 1);
        Assert.All(splits.Train.GetPixels(b).ToArray(), p => Assert.Equal(77, p));
        Assert.Equal(["a", "b"], splits.Train.ClassNames);
    }

    [Fact]
    public void Read_MixedSizesWithoutTarget_StillCmp0203()
    {
        using var dir = new TempDirectory();
        WritePng(dir.Combine("train", "a", "x.png"), 0, width: 8, height: 8);
        WritePng(dir.Combine("test", "a", "y.png"), 0, width: 9, height: 8);
        var e = Assert.Throws<CompressException>(() => ImageFolderReader.Read(dir.Path));
        Assert.Equal(DiagnosticCode.DatasetMalformed, e.Code);
    }
}

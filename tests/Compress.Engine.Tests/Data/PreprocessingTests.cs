using System.Text.Json;
using Compress.Engine.Data;
using Compress.Engine.Diagnostics;

namespace Compress.Engine.Tests.Data;

public class PreprocessingTests
{
    private static byte[] Image(int c, int h, int w)
    {
        var pixels = new byte[c * h * w];
        for (int ch = 0; ch < c; ch++)
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                    pixels[(ch * h * w) + (y * w) + x] = (byte)(((37 * ch) + (11 * y) + (5 * x) + (x * y % 23)) % 256);
        return pixels;
    }

    [Fact]
    public void ShorterSideCenterCrop_MatchesTorchvisionAntialiasedResizeWithinOneLevel()
    {
        using var reference = JsonDocument.Parse(File.ReadAllText(RepoPaths.Fixture("preprocessing", "reference.json")));
        foreach (var item in reference.RootElement.GetProperty("cases").EnumerateArray())
        {
            int c = item.GetProperty("channels").GetInt32(), h = item.GetProperty("height").GetInt32(), w = item.GetProperty("width").GetInt32();
            int shorter = item.GetProperty("shorter").GetInt32(), crop = item.GetProperty("crop").GetInt32();
            var expected = item.GetProperty("output").EnumerateArray().Select(e => e.GetInt32()).ToArray();
            var actual = ImageResize.ShorterSideCenterCrop(Image(c, h, w), new ImageShape(c, h, w), shorter, new ImageShape(c, crop, crop));
            Assert.Equal(expected.Length, actual.Length);
            int worst = expected.Zip(actual, (e, a) => Math.Abs(e - a)).Max();
            Assert.True(worst <= 1, $"{c}x{h}x{w} -> {shorter} -> {crop}: largest difference {worst} levels");
        }
    }

    [Fact]
    public void ConvertChannels_GreyToRgbAndBack_PilWeights()
    {
        byte[] rgb = [255, 0, 10, /* G */ 0, 255, 20, /* B */ 0, 0, 30];
        var grey = ImageResize.ConvertChannels(rgb, new ImageShape(3, 1, 3), 1);
        Assert.Equal(new byte[] { 76, 150, 18 }, grey); // 0.299 * 255, 0.587 * 255, (299*10 + 587*20 + 114*30) / 1000 = 18.65 rounded down as PIL does
        var back = ImageResize.ConvertChannels(grey, new ImageShape(1, 1, 3), 3);
        Assert.Equal(new byte[] { 76, 150, 18, 76, 150, 18, 76, 150, 18 }, back);
    }

    [Fact]
    public void Fit_SmallDatasetToLargerModel_EnlargesBothSplitsAndRecordsTheResize()
    {
        var shape = new ImageShape(1, 8, 8);
        var train = new InMemoryImageDataset(shape, Enumerable.Repeat((byte)100, 2 * 64).ToArray(), [0, 1], ["a", "b"], "t");
        var test = new InMemoryImageDataset(shape, Enumerable.Repeat((byte)200, 64).ToArray(), [1], ["a", "b"], "t");
        var fitted = DatasetAdapter.Fit(new DatasetSplits(train, test), new ImageShape(3, 16, 16));
        Assert.Equal(new ImageShape(3, 16, 16), fitted.Train.Shape);
        Assert.Equal(16, fitted.ResizeShorterSide);
        Assert.All(fitted.Train.GetPixels(1).ToArray(), p => Assert.Equal(100, p)); // a flat image stays flat
        Assert.All(fitted.Test.GetPixels(0).ToArray(), p => Assert.Equal(200, p));
        Assert.Equal(1, fitted.Train.GetLabel(1));
    }

    [Fact]
    public void ShorterSide_LargerImagesGetTorchvisionsMargin()
    {
        Assert.Equal(256, DatasetAdapter.ShorterSide(new ImageShape(3, 480, 640), new ImageShape(3, 224, 224)));
        Assert.Equal(224, DatasetAdapter.ShorterSide(new ImageShape(3, 32, 32), new ImageShape(3, 224, 224)));
    }

    [Fact]
    public void ResizedCropBox_StaysInsideAndVaries()
    {
        var rng = new Random(3);
        var boxes = Enumerable.Range(0, 200).Select(_ => Augmentation.ResizedCropBox(96, 128, rng)).ToList();
        Assert.All(boxes, b => Assert.True(b.X >= 0 && b.Y >= 0 && b.Width >= 1 && b.Height >= 1 && b.X + b.Width <= 128 && b.Y + b.Height <= 96));
        Assert.True(boxes.Select(b => b.Width * b.Height).Distinct().Count() > 50);
        double minArea = boxes.Min(b => b.Width * b.Height / (96.0 * 128));
        Assert.InRange(minArea, 0.06, 0.3); // torchvision's scale starts at 8% of the area
    }

    [Fact]
    public void ResizedCropFlip_FlatImageStaysFlatAndFlipMirrors()
    {
        var shape = new ImageShape(1, 4, 4);
        var table = Normalization.ScaleOnlyTable(1);
        var flat = Enumerable.Repeat((byte)51, 16).ToArray();
        var output = new float[16];
        Augmentation.ResizedCropFlip(flat, output, shape, table, 1, 1, 2, 3, flip: true);
        Assert.All(output, v => Assert.Equal(0.2f, v, 5));
        // The full box without flip is the identity; with flip, each row reversed.
        var ramp = Enumerable.Range(0, 16).Select(i => (byte)i).ToArray();
        Augmentation.ResizedCropFlip(ramp, output, shape, table, 0, 0, 4, 4, flip: false);
        Assert.Equal(ramp.Select(p => p / 255f), output);
        Augmentation.ResizedCropFlip(ramp, output, shape, table, 0, 0, 4, 4, flip: true);
        Assert.Equal(3 / 255f, output[0], 6);
        Assert.Equal(0f, output[3], 6);
    }

    [Theory]
    [InlineData("imagenet", "imagenet")]
    [InlineData(" Dataset ", "dataset")]
    [InlineData("none", "none")]
    [InlineData("0.5, 0.5,0.5/0.25,0.25,0.25", "0.5,0.5,0.5/0.25,0.25,0.25")]
    public void NormalizationChoice_Parse_CanonicalText(string text, string canonical) =>
        Assert.Equal(canonical, NormalizationChoice.Parse(text).Text);

    [Theory]
    [InlineData("imagenette")]
    [InlineData("0.5,0.5/0.2")]
    [InlineData("0.5/0")]
    [InlineData("a/b")]
    public void NormalizationChoice_Parse_Bad_Cmp0001(string text)
    {
        var e = Assert.Throws<CompressException>(() => NormalizationChoice.Parse(text));
        Assert.Equal(DiagnosticCode.InvalidOption, e.Code);
        Assert.Contains(text, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Preprocessing_Metadata_RoundTripsTheNormalizationAndLabels()
    {
        var contract = new Preprocessing(Normalization.ImageNet, "imagenet", "RGB", 224, 224, 256, ["cat", "dog"], Embedded: true);
        var metadata = contract.ToMetadata();
        Assert.Equal("224x224", metadata["compress.preprocess.input_size"]);
        Assert.Equal("shorter side to 256, centre crop 224x224", metadata["compress.preprocess.resize"]);
        Assert.Equal("[\"cat\",\"dog\"]", metadata["compress.labels"]);
        Assert.Equal(Normalization.ImageNet, Preprocessing.NormalizationFrom(metadata));
        Assert.Equal(Normalization.ImageNet, Preprocessing.EmbeddedNormalization(metadata));
    }
}

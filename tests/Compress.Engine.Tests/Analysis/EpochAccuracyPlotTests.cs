using Compress.Engine.Analysis;
using SkiaSharp;

namespace Compress.Engine.Tests.Analysis;

public sealed class EpochAccuracyPlotTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("compress-plot-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void WritePng_TwoRuns_DrawsBothLinesInTheirColours()
    {
        string path = Path.Combine(_folder, "epochs.png");
        EpochAccuracyPlot.WritePng(
            [new EpochAccuracyPlot.Line("dense", [20, 50, 80]), new EpochAccuracyPlot.Line("one-shot", [60, 70, 75], Dashed: true)],
            path, "two runs");
        PngAssert.IsPng(path, 1100, 650);
        using var bitmap = SKBitmap.Decode(path);
        // Category10's first two colours: the lines are drawn (blue and orange pixels in the plot area).
        var colours = new HashSet<SKColor>();
        for (int y = 0; y < bitmap.Height; y += 2)
            for (int x = 0; x < 800; x += 2) colours.Add(bitmap.GetPixel(x, y));
        Assert.Contains(colours, c => c.Blue > 150 && c.Red < 80 && c.Green > 90 && c.Green < 140);   // #1f77b4
        Assert.Contains(colours, c => c.Red > 230 && c.Green > 100 && c.Green < 150 && c.Blue < 40); // #ff7f0e
        PngAssert.OnlyFiles(_folder, "epochs.png");
    }
}

using Compress.Engine.Analysis;
using Compress.Engine.Diagnostics;
using Compress.Engine.Pruning.FineGrained;

namespace Compress.Engine.Tests.Analysis;

public sealed class SensitivityPlotTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("compress-sensitivity-plot-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    /// <summary>A hand-made scan: <paramref name="layers"/> layers whose accuracy falls at different speeds.</summary>
    internal static SensitivityResult HandMadeScan(int layers)
    {
        double[] grid = [0.4, 0.5, 0.6, 0.7, 0.8, 0.9];
        return new SensitivityResult
        {
            DenseAccuracy = 91.5,
            DenseLoss = 0.3,
            Images = 500,
            Sparsities = grid,
            ModelParameterCount = 1_000_000,
            Layers = [.. Enumerable.Range(0, layers).Select(l => new LayerSensitivity($"layer{l / 2}.conv{l % 2}.weight", [8, 8, 3, 3], 576L * (l + 1),
                [.. grid.Select(s => new SensitivityPoint(s, (long)(s * 576 * (l + 1)), 91.5 - (l + 1) * 60 * Math.Pow(s, 4), 0.4))]))],
        };
    }

    [Fact]
    public void WritePng_TwentyOneLayers_WritesAHeatmapWithARowPerLayerAndNoTempFile()
    {
        string path = Path.Combine(_folder, "sensitivity.png");
        var sink = new CollectingSink();

        SensitivityPlot.WritePng(HandMadeScan(21), path, "hand-made scan", sink);

        PngAssert.IsPng(path, 1200, SensitivityPlot.HeightFor(21));
        Assert.Equal(590, SensitivityPlot.HeightFor(21));
        Assert.Equal(1270, SensitivityPlot.HeightFor(55)); // ResNet-56: 20 pixels a row, labels never overlap
        if (Environment.GetEnvironmentVariable("COMPRESS_KEEP_PLOT") is string keep) File.Copy(path, keep, overwrite: true);
        PngAssert.OnlyFiles(_folder, "sensitivity.png");
        Assert.All(sink.Diagnostics, d => Assert.Equal(DiagnosticCode.PlotWithoutText, d.Code));
    }

    [Fact]
    public void WritePng_ExistingFile_IsReplaced()
    {
        string path = Path.Combine(_folder, "sensitivity.png");
        File.WriteAllText(path, "old");

        SensitivityPlot.WritePng(HandMadeScan(2), path);

        PngAssert.IsPng(path, 1200, SensitivityPlot.HeightFor(2));
    }

    [Fact]
    public void WritePng_MissingFolder_ThrowsCmp0004AndWritesNothing()
    {
        string path = Path.Combine(_folder, "missing", "sensitivity.png");
        var e = Assert.Throws<CompressException>(() => SensitivityPlot.WritePng(HandMadeScan(2), path));
        Assert.Equal(DiagnosticCode.OutputWriteFailed, e.Code);
        PngAssert.OnlyFiles(_folder);
    }
}

using Compress.Engine.Analysis;
using Compress.Engine.Diagnostics;
using Compress.Engine.Pruning.FineGrained;

namespace Compress.Engine.Tests.Analysis;

public sealed class WeightHistogramPlotTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("compress-histogram-plot-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void WritePng_LeNet5WithMask_WritesAThreeByTwoGridAndNoTempFile()
    {
        using var model = AnalysisTestModels.LoadFixtureLeNet5();
        using var mask = LayerwiseMagnitudePruner.Compute(model, new Dictionary<string, double> { ["conv2.weight"] = 0.6, ["fc1.weight"] = 0.9 });
        string path = Path.Combine(_folder, "weights.png");
        var sink = new CollectingSink();

        WeightHistogramPlot.WritePng(model, path, mask, sink: sink);

        // Five weights: ceil(sqrt(5)) = 3 columns, 2 rows of 320 x 240 cells.
        PngAssert.IsPng(path, 3 * 320, 2 * 240);
        PngAssert.OnlyFiles(_folder, "weights.png");
        Assert.All(sink.Diagnostics, d => Assert.Equal(DiagnosticCode.PlotWithoutText, d.Code));
    }

    [Fact]
    public void WritePng_ChosenLayers_OneCellEach()
    {
        using var model = AnalysisTestModels.LoadFixtureLeNet5();
        string path = Path.Combine(_folder, "weights.png");

        WeightHistogramPlot.WritePng(model, path, layers: ["fc3.weight"]);

        PngAssert.IsPng(path, 320, 240);
    }

    [Fact]
    public void WritePng_BiasAsLayer_ThrowsCmp0750()
    {
        using var model = AnalysisTestModels.LoadFixtureLeNet5();
        var e = Assert.Throws<CompressException>(() => WeightHistogramPlot.WritePng(model, Path.Combine(_folder, "w.png"), layers: ["fc3.bias"]));
        Assert.Equal(DiagnosticCode.UnknownPrunableParameter, e.Code);
        PngAssert.OnlyFiles(_folder);
    }
}

using Compress.Engine.Analysis;
using Compress.Engine.Diagnostics;

namespace Compress.Engine.Tests.Analysis;

public sealed class ParameterCountPlotTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("compress-parameter-plot-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void WritePng_ScanWithProposedSparsities_WritesA900By600PngAndNoTempFile()
    {
        var scan = SensitivityPlotTests.HandMadeScan(5);
        string path = Path.Combine(_folder, "parameters.png");

        ParameterCountPlot.WritePng(scan, path, scan.Layers.ToDictionary(l => l.Name, _ => 0.7));

        PngAssert.IsPng(path, 900, 600);
        PngAssert.OnlyFiles(_folder, "parameters.png");
    }

    [Fact]
    public void WritePng_ManyLayers_GrowsWiderThanTheMinimum()
    {
        string path = Path.Combine(_folder, "parameters.png");
        ParameterCountPlot.WritePng(SensitivityPlotTests.HandMadeScan(40), path);
        PngAssert.IsPng(path, 60 + 28 * 40, 600);
    }

    [Fact]
    public void WritePng_LeNet5Model_BarsForItsFivePrunableWeights()
    {
        using var model = AnalysisTestModels.LoadFixtureLeNet5();
        string path = Path.Combine(_folder, "lenet.png");
        var sink = new CollectingSink();

        ParameterCountPlot.WritePng(model, path, sink: sink);

        PngAssert.IsPng(path, 900, 600);
        Assert.All(sink.Diagnostics, d => Assert.Equal(DiagnosticCode.PlotWithoutText, d.Code));
    }
}

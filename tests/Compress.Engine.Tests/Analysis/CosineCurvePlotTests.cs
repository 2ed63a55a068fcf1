using Compress.Engine.Analysis;
using Compress.Engine.Diagnostics;
using SkiaSharp;

namespace Compress.Engine.Tests.Analysis;

public sealed class CosineCurvePlotTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("compress-plot-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void WritePng_LeNet5Analysis_WritesDecodablePngAndNoTempFile()
    {
        using var model = AnalysisTestModels.LoadFixtureLeNet5();
        var analysis = PruneAnalyzer.Analyze(model);
        string path = Path.Combine(_folder, "curve.png");
        var sink = new CollectingSink();

        CosineCurvePlot.WritePng(analysis, path, "LeNet-5 seed 0", sink);

        byte[] bytes = File.ReadAllBytes(path);
        Assert.True(bytes.Length > 1000);
        Assert.Equal(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }, bytes[..8]);
        using var bitmap = SKBitmap.Decode(bytes);
        Assert.NotNull(bitmap);
        Assert.Equal(900, bitmap.Width);
        Assert.Equal(600, bitmap.Height);
        // Not a blank image: the curve and markers put several colours on it.
        var colours = new HashSet<uint>();
        for (int y = 0; y < bitmap.Height; y += 7)
            for (int x = 0; x < bitmap.Width; x += 7) colours.Add((uint)bitmap.GetPixel(x, y));
        Assert.True(colours.Count > 3, $"{colours.Count} colours");
        Assert.Equal(["curve.png"], Directory.GetFiles(_folder).Select(Path.GetFileName));
        // With a font on this machine there is no warning; without one, CMP0305 (checked by hand under unshare).
        Assert.All(sink.Diagnostics, d => Assert.Equal(DiagnosticCode.PlotWithoutText, d.Code));
    }

    [Fact]
    public void WritePng_ExistingFile_IsReplaced()
    {
        using var model = AnalysisTestModels.LoadFixtureLeNet5();
        var analysis = PruneAnalyzer.Analyze(model);
        string path = Path.Combine(_folder, "curve.png");
        File.WriteAllText(path, "old");

        CosineCurvePlot.WritePng(analysis, path);

        Assert.Equal(0x89, File.ReadAllBytes(path)[0]);
    }

    [Fact]
    public void WritePng_MissingFolder_ThrowsOutputWriteFailed()
    {
        using var model = AnalysisTestModels.LoadFixtureLeNet5();
        var analysis = PruneAnalyzer.Analyze(model);
        string path = Path.Combine(_folder, "missing", "curve.png");

        var e = Assert.Throws<CompressException>(() => CosineCurvePlot.WritePng(analysis, path));

        Assert.Equal(DiagnosticCode.OutputWriteFailed, e.Code);
        Assert.False(File.Exists(path));
    }
}

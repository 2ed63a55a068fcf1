using Compress.Engine.Diagnostics;
using ScottPlot;

namespace Compress.Engine.Analysis;

/// <summary>
/// Draws the analysis as the paper's figure: cosine similarity against prune rate, the knee, the utopia point (1, 1)
/// with a dashed line from the knee to it, and the safe rate as a vertical line.
/// </summary>
public static class CosineCurvePlot
{
    private const int Width = 900;
    private const int Height = 600;

    /// <summary>
    /// Writes the figure to <paramref name="path"/> as a PNG (temp file in the same folder, then moved, so a reader
    /// never sees half a file). On a machine without any font (a bare container) the figure is still written, without
    /// its text, and <paramref name="sink"/> gets warning CMP0305. Throws CMP0004 when the file cannot be written.
    /// </summary>
    public static void WritePng(PruneAnalysis analysis, string path, string? title = null, IDiagnosticSink? sink = null)
    {
        ArgumentNullException.ThrowIfNull(analysis);
        ArgumentException.ThrowIfNullOrEmpty(path);
        byte[] png = Render(analysis, title, out bool hasFont);
        PlotOutput.Write(png, path, hasFont, sink);
    }

    /// <summary>The PNG bytes; <paramref name="hasFont"/> is false when no font could render the text.</summary>
    internal static byte[] Render(PruneAnalysis analysis, string? title, out bool hasFont)
    {
        // ScottPlot draws text with its default font; without any installed font that typeface is empty (no glyphs).
        hasFont = PlotOutput.HasFont();
        var plot = new Plot();
        try
        {
            double[] xs = [.. analysis.Rates.Select(r => (double)r)];
            var curve = plot.Add.ScatterLine(xs, analysis.Cosine);
            curve.LineWidth = 2;
            curve.LegendText = "cosine similarity (exact)";

            var knee = analysis.Knee;
            var toUtopia = plot.Add.Line(knee.Rate, knee.Cosine, 1, 1);
            toUtopia.LinePattern = LinePattern.Dashed;
            toUtopia.LineWidth = 1.5f;
            toUtopia.LegendText = Invariant($"distance to utopia {knee.Distance:0.000}");

            var kneeMarker = plot.Add.Marker(knee.Rate, knee.Cosine, MarkerShape.FilledCircle, 10);
            kneeMarker.LegendText = Invariant($"knee: rate {knee.Rate:0.00}, cosine {knee.Cosine:0.000}");

            var utopia = plot.Add.Marker(1, 1, MarkerShape.FilledSquare, 10);
            utopia.LegendText = "utopia (1, 1)";

            var safe = plot.Add.VerticalLine(analysis.SafeRate, 1.5f, pattern: LinePattern.DenselyDashed);
            safe.Text = Invariant($"safe {analysis.SafeRate:0.000}");
            safe.LegendText = Invariant($"safe rate {analysis.SafeRate:0.000} (K = {analysis.KurtosisOfKurtoses:0.00}{(analysis.Clamped ? ", clamped" : "")})");

            plot.Title(title ?? Invariant($"Global L1 pruning: cosine similarity ({analysis.ParameterCount:N0} parameters)"));
            plot.XLabel("prune rate");
            plot.YLabel("cosine similarity to the unpruned weights");
            double low = Math.Max(0, Math.Min(analysis.Cosine.Min(), knee.Cosine) - 0.05);
            plot.Axes.SetLimits(0, 1.02, low, 1.03);
            plot.ShowLegend(Alignment.LowerLeft);
            if (hasFont && PlotOutput.SansFont() is string sans)
            {
                plot.Font.Set(sans);
                safe.LabelFontName = sans;
            }
            return plot.GetImageBytes(Width, Height, ImageFormat.Png);
        }
        finally
        {
            plot.Dispose();
        }
    }

    private static string Invariant(FormattableString s) => PlotOutput.Invariant(s);
}

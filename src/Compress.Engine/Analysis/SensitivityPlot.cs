using Compress.Engine.Diagnostics;
using Compress.Engine.Pruning.FineGrained;
using ScottPlot;
using static Compress.Engine.Analysis.PlotOutput;

namespace Compress.Engine.Analysis;

/// <summary>
/// The lab's sensitivity figure in one chart: test accuracy against sparsity, one line per layer (pruned alone), and a
/// dashed horizontal line at the dense model's accuracy, so the layers that fall away from it early stand out.
/// </summary>
public static class SensitivityPlot
{
    private const int Width = 1200;
    private const int Height = 700;

    private static readonly MarkerShape[] Markers =
        [MarkerShape.FilledCircle, MarkerShape.FilledSquare, MarkerShape.FilledTriangleUp, MarkerShape.FilledDiamond];

    /// <summary>
    /// Writes the figure to <paramref name="path"/> as a PNG of 1200 × 700 pixels (temp file in the same folder, then
    /// moved). Without any font the figure is written without text and <paramref name="sink"/> gets warning CMP0305;
    /// CMP0004 when the file cannot be written.
    /// </summary>
    public static void WritePng(SensitivityResult scan, string path, string? title = null, IDiagnosticSink? sink = null)
    {
        ArgumentNullException.ThrowIfNull(scan);
        ArgumentException.ThrowIfNullOrEmpty(path);
        byte[] png = Render(scan, title, out bool hasFont);
        Write(png, path, hasFont, sink);
    }

    /// <summary>The PNG bytes; <paramref name="hasFont"/> is false when no font could render the text.</summary>
    internal static byte[] Render(SensitivityResult scan, string? title, out bool hasFont)
    {
        hasFont = HasFont();
        using var plot = new Plot();
        plot.Add.Palette = new ScottPlot.Palettes.Category20();
        double low = scan.DenseAccuracy, high = scan.DenseAccuracy;
        for (int i = 0; i < scan.Layers.Count; i++)
        {
            var layer = scan.Layers[i];
            double[] xs = [.. layer.Points.Select(p => p.Sparsity)];
            double[] ys = [.. layer.Points.Select(p => p.Accuracy)];
            if (ys.Length > 0) (low, high) = (Math.Min(low, ys.Min()), Math.Max(high, ys.Max()));
            var line = plot.Add.Scatter(xs, ys);
            line.LineWidth = 1.5f;
            line.MarkerSize = 6;
            line.MarkerShape = Markers[i / 20 % Markers.Length];
            line.LegendText = Invariant($"{layer.Name} ({layer.ParameterCount:N0})");
        }
        var dense = plot.Add.HorizontalLine(scan.DenseAccuracy, 2, Colors.Black, LinePattern.Dashed);
        dense.LegendText = Invariant($"dense {scan.DenseAccuracy:0.00}%");

        plot.Title(title ?? Invariant($"Sensitivity scan: each layer pruned alone ({scan.Images} test images)"));
        plot.XLabel("sparsity of the layer");
        plot.YLabel("top-1 test accuracy (%)");
        double xLow = scan.Sparsities.Count > 0 ? scan.Sparsities[0] : 0;
        double xHigh = scan.Sparsities.Count > 0 ? scan.Sparsities[^1] : 1;
        double pad = Math.Max(0.02, (xHigh - xLow) * 0.04);
        plot.Axes.SetLimits(xLow - pad, xHigh + pad, Math.Max(0, low - 3), Math.Min(100, high + 3));
        plot.ShowLegend(Edge.Right);
        UseSans(plot, hasFont);
        return plot.GetImageBytes(Width, Height, ImageFormat.Png);
    }
}

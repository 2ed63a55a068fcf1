using Compress.Engine.Diagnostics;
using Compress.Engine.Pruning.FineGrained;
using ScottPlot;
using static Compress.Engine.Analysis.PlotOutput;

namespace Compress.Engine.Analysis;

/// <summary>
/// The sensitivity scan as a heat-map: a row per layer (its name and parameter count as the tick label, one row each
/// however many layers, so labels never overlap), a column per sparsity, each cell coloured by the accuracy drop from the
/// dense model and labelled with the accuracy. The layers that fall away early stand out as bright rows.
/// </summary>
public static class SensitivityPlot
{
    private const int Width = 1200;

    /// <summary>The figure's height for <paramref name="layers"/> layers: 20 pixels a row, at least 400.</summary>
    public static int HeightFor(int layers) => Math.Max(400, 170 + 20 * layers);

    /// <summary>
    /// Writes the figure to <paramref name="path"/> as a PNG of 1200 × <see cref="HeightFor"/> pixels (temp file in the
    /// same folder, then moved). Without any font the figure is written without text and <paramref name="sink"/> gets
    /// warning CMP0305; CMP0004 when the file cannot be written.
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
        int rows = scan.Layers.Count, columns = scan.Sparsities.Count;
        var drop = new double[Math.Max(1, rows), Math.Max(1, columns)];
        for (int i = 0; i < rows; i++)
        {
            var layer = scan.Layers[i];
            for (int j = 0; j < columns; j++)
            {
                var point = layer.Points.FirstOrDefault(p => Math.Abs(p.Sparsity - scan.Sparsities[j]) < 1e-9);
                drop[i, j] = point is null ? double.NaN : Math.Max(0, scan.DenseAccuracy - point.Accuracy);
                if (point is not null && hasFont)
                {
                    // Row 0 at the top, like the list of layers.
                    var text = plot.Add.Text(Invariant($"{point.Accuracy:0.0}"), j, rows - 1 - i);
                    text.LabelAlignment = Alignment.MiddleCenter;
                    text.LabelFontSize = 11;
                    text.LabelFontColor = drop[i, j] > 0.6 * Math.Max(1, scan.DenseAccuracy) ? Colors.White : Colors.Black;
                }
            }
        }
        var heatmap = plot.Add.Heatmap(drop);
        heatmap.Colormap = new ScottPlot.Colormaps.MellowRainbow();
        heatmap.Extent = new CoordinateRect(-0.5, columns - 0.5, -0.5, rows - 0.5);
        var bar = plot.Add.ColorBar(heatmap);
        bar.Label = "accuracy drop (points)";
        // Drawn after the heat-map so the numbers sit on top.
        foreach (var text in plot.GetPlottables().OfType<ScottPlot.Plottables.Text>().ToList())
        {
            plot.Remove(text);
            plot.Add.Plottable(text);
        }

        var left = new ScottPlot.TickGenerators.NumericManual();
        for (int i = 0; i < rows; i++)
            left.AddMajor(rows - 1 - i, Invariant($"{scan.Layers[i].Name} ({scan.Layers[i].ParameterCount:N0})"));
        plot.Axes.Left.TickGenerator = left;
        var bottom = new ScottPlot.TickGenerators.NumericManual();
        for (int j = 0; j < columns; j++) bottom.AddMajor(j, Invariant($"{scan.Sparsities[j]:0.##}"));
        plot.Axes.Bottom.TickGenerator = bottom;
        plot.Axes.SetLimits(-0.5, columns - 0.5, -0.5, rows - 0.5);
        plot.Title(title ?? Invariant($"Sensitivity scan: accuracy with each layer pruned alone (dense {scan.DenseAccuracy:0.00}%, {scan.Images} test images)"));
        plot.XLabel("sparsity of the layer");
        UseSans(plot, hasFont);
        return plot.GetImageBytes(Width, HeightFor(rows), ImageFormat.Png);
    }
}

using Compress.Engine.Diagnostics;
using ScottPlot;
using static Compress.Engine.Analysis.PlotOutput;

namespace Compress.Engine.Analysis;

/// <summary>Test accuracy against training epoch, one line per run (dynamic pruning, one-shot fine-tuning, dense).</summary>
public static class EpochAccuracyPlot
{
    private const int Width = 1100;
    private const int Height = 650;

    /// <summary>One line: its legend and the accuracy (percent) after epochs 1, 2, ...</summary>
    public sealed record Line(string Label, IReadOnlyList<double> Accuracy, bool Dashed = false);

    /// <summary>Writes the figure to <paramref name="path"/> (PNG; CMP0305 warning without fonts, CMP0004 when it cannot
    /// be written).</summary>
    public static void WritePng(IReadOnlyList<Line> lines, string path, string title, IDiagnosticSink? sink = null)
    {
        ArgumentNullException.ThrowIfNull(lines);
        ArgumentException.ThrowIfNullOrEmpty(path);
        bool hasFont = HasFont();
        using var plot = new Plot();
        plot.Add.Palette = new ScottPlot.Palettes.Category10();
        int epochs = 1;
        foreach (var line in lines.Where(l => l.Accuracy.Count > 0))
        {
            double[] xs = [.. Enumerable.Range(1, line.Accuracy.Count).Select(e => (double)e)];
            var scatter = plot.Add.Scatter(xs, [.. line.Accuracy]);
            scatter.LineWidth = 2;
            scatter.MarkerSize = 6;
            scatter.LinePattern = line.Dashed ? LinePattern.Dashed : LinePattern.Solid;
            scatter.LegendText = line.Label;
            epochs = Math.Max(epochs, line.Accuracy.Count);
        }
        double[] ticks = [.. Enumerable.Range(1, epochs).Select(e => (double)e)];
        plot.Axes.Bottom.SetTicks(ticks, [.. ticks.Select(t => Invariant($"{t:0}"))]);
        plot.Axes.SetLimits(0.5, epochs + 0.5, 0, 100);
        plot.Title(title);
        plot.XLabel("epoch");
        plot.YLabel("top-1 test accuracy (%)");
        plot.ShowLegend(Edge.Right);
        UseSans(plot, hasFont);
        Write(plot.GetImageBytes(Width, Height, ImageFormat.Png), path, hasFont, sink);
    }
}

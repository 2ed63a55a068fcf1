using Compress.Engine.Diagnostics;
using Compress.Engine.Pipeline;
using ScottPlot;
using static Compress.Engine.Analysis.PlotOutput;

namespace Compress.Engine.Analysis;

/// <summary>
/// ShrinkBench's figure: top-1 accuracy after fine-tuning against compression ratio (parameters / nonzero parameters,
/// on a log2 axis), one line per criterion and scope, and a dashed line at the baseline's accuracy.
/// </summary>
public static class ComparePlot
{
    private const int Width = 1100;
    private const int Height = 700;

    private static readonly MarkerShape[] Markers = [MarkerShape.FilledCircle, MarkerShape.FilledSquare, MarkerShape.FilledTriangleUp];

    /// <summary>Writes the figure to <paramref name="path"/> (PNG; CMP0305 warning without fonts, CMP0004 when it cannot
    /// be written).</summary>
    public static void WritePng(CompareResult result, string path, string? title = null, IDiagnosticSink? sink = null, bool bySpeedup = false)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentException.ThrowIfNullOrEmpty(path);
        byte[] png = Render(result, title, bySpeedup, out bool hasFont);
        Write(png, path, hasFont, sink);
    }

    internal static byte[] Render(CompareResult result, string? title, bool bySpeedup, out bool hasFont)
    {
        hasFont = HasFont();
        using var plot = new Plot();
        plot.Add.Palette = new ScottPlot.Palettes.Category10();
        var lines = result.Cells.GroupBy(c => (c.Criterion, c.Scope)).ToList();
        double low = result.BaselineAccuracy, high = result.BaselineAccuracy, right = 1, left = 0;
        for (int i = 0; i < lines.Count; i++)
        {
            double X(CompareCell c) => bySpeedup ? c.Speedup ?? double.NaN : c.CompressionRatio;
            var points = lines[i].Where(c => double.IsFinite(X(c)) && X(c) > 0).OrderBy(X).ToList();
            if (points.Count == 0) continue;
            double[] xs = [.. points.Select(p => Math.Log2(X(p)))];
            double[] ys = [.. points.Select(p => p.AccuracyFineTuned)];
            (low, high, right, left) = (Math.Min(low, ys.Min()), Math.Max(high, ys.Max()), Math.Max(right, xs.Max()), Math.Min(left, xs.Min()));
            var line = plot.Add.Scatter(xs, ys);
            line.LineWidth = 2;
            line.MarkerSize = 8;
            line.MarkerShape = Markers[i % Markers.Length];
            line.LinePattern = lines[i].Key.Scope == "layer" ? LinePattern.Dashed : LinePattern.Solid;
            line.LegendText = $"{lines[i].Key.Criterion} ({lines[i].Key.Scope})";
        }
        var baseline = plot.Add.HorizontalLine(result.BaselineAccuracy, 2, Colors.Black, LinePattern.Dotted);
        baseline.LegendText = Invariant($"baseline {result.BaselineAccuracy:0.00}%");

        int maxTick = Math.Max(1, (int)Math.Ceiling(right));
        int minTick = (int)Math.Floor(left);
        double[] ticks = [.. Enumerable.Range(minTick, maxTick - minTick + 1).Select(t => (double)t)];
        plot.Axes.Bottom.SetTicks(ticks, [.. ticks.Select(t => Invariant($"{Math.Pow(2, t):0.##}x"))]);
        plot.Axes.SetLimits(minTick - 0.1, maxTick + 0.1, Math.Max(0, low - 3), Math.Min(100, high + 3));
        plot.Title(title ?? Invariant($"{(result.Granularity == "channel" ? "Channel pruning" : "Pruning methods")} on {Path.GetFileName(result.Model)}: accuracy after fine-tuning"));
        plot.XLabel(bySpeedup ? "ONNX Runtime speedup (batch 1, log scale)"
            : result.Granularity == "channel" ? "compression ratio (parameters before / after, log scale)"
            : "compression ratio (parameters / nonzero parameters, log scale)");
        plot.YLabel("top-1 test accuracy (%)");
        plot.ShowLegend(Edge.Right);
        UseSans(plot, hasFont);
        return plot.GetImageBytes(Width, Height, ImageFormat.Png);
    }

    /// <summary>
    /// The scratch comparison: on the left, accuracy after fine-tuning and after training from scratch per cell; on the
    /// right, the weight histograms of the most pruned cell of the first method, fine-tuned against from scratch.
    /// </summary>
    public static void WriteScratchPng(CompareResult result, string path, IDiagnosticSink? sink = null)
    {
        ArgumentNullException.ThrowIfNull(result);
        bool hasFont = HasFont();
        var cells = result.Cells.Where(c => c.Scratch is not null).ToList();
        using var accuracy = new Plot();
        accuracy.Add.Palette = new ScottPlot.Palettes.Category10();
        double[] positions = [.. Enumerable.Range(0, cells.Count).Select(i => (double)i)];
        var tuned = accuracy.Add.Scatter(positions, [.. cells.Select(c => c.AccuracyFineTuned)]);
        tuned.LegendText = "fine-tuned";
        tuned.LineWidth = 0;
        tuned.MarkerSize = 9;
        var scratch = accuracy.Add.Scatter(positions, [.. cells.Select(c => c.Scratch!.Accuracy)]);
        scratch.LegendText = Invariant($"from scratch ({(cells.Count > 0 ? cells[0].Scratch!.Epochs : 0)} epochs)");
        scratch.LineWidth = 0;
        scratch.MarkerSize = 9;
        scratch.MarkerShape = MarkerShape.FilledSquare;
        accuracy.Add.HorizontalLine(result.BaselineAccuracy, 2, Colors.Black, LinePattern.Dotted).LegendText = "baseline";
        // Short labels: criterion, scope and fraction, e.g. "mag/g/0.5".
        accuracy.Axes.Bottom.SetTicks(positions, [.. cells.Select(c => Invariant($"{c.Criterion[..3]}/{c.Scope[..1]}/{c.Fraction:0.##}"))]);
        accuracy.YLabel("top-1 test accuracy (%)");
        accuracy.Title("Fine-tuned vs trained from scratch, per cell");
        accuracy.ShowLegend(Edge.Bottom);
        UseSans(accuracy, hasFont);

        using var histogram = new Plot();
        var shown = cells.Where(c => c.Criterion == cells.FirstOrDefault()?.Criterion && c.Scope == cells.FirstOrDefault()?.Scope)
            .OrderByDescending(c => c.Fraction).FirstOrDefault();
        if (shown?.Scratch is { } s)
        {
            double[] centres = [.. s.Edges.Zip(s.Edges.Skip(1), (a, b) => (a + b) / 2)];
            var a = histogram.Add.Scatter(centres, [.. s.FineTuned.Select(v => (double)v)]);
            a.LegendText = "fine-tuned";
            a.MarkerSize = 0;
            a.LineWidth = 2;
            var b = histogram.Add.Scatter(centres, [.. s.FromScratch.Select(v => (double)v)]);
            b.LegendText = "from scratch";
            b.MarkerSize = 0;
            b.LineWidth = 2;
            histogram.Title(Invariant($"Nonzero weights: {shown.Criterion} {shown.Scope} {shown.Fraction:0.##}"));
        }
        histogram.XLabel("weight value");
        histogram.YLabel("count");
        histogram.ShowLegend(Edge.Bottom);
        UseSans(histogram, hasFont);

        using var left = SkiaSharp.SKBitmap.Decode(accuracy.GetImageBytes(700, 600, ImageFormat.Png));
        using var right = SkiaSharp.SKBitmap.Decode(histogram.GetImageBytes(600, 600, ImageFormat.Png));
        using var combined = new SkiaSharp.SKBitmap(1300, 600);
        using (var canvas = new SkiaSharp.SKCanvas(combined))
        {
            canvas.Clear(SkiaSharp.SKColors.White);
            canvas.DrawBitmap(left, 0, 0);
            canvas.DrawBitmap(right, 700, 0);
        }
        using var image = SkiaSharp.SKImage.FromBitmap(combined);
        using var data = image.Encode(SkiaSharp.SKEncodedImageFormat.Png, 100);
        Write(data.ToArray(), path, hasFont, sink);
    }
}

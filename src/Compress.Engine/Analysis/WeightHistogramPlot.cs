using Compress.Engine.Diagnostics;
using Compress.Engine.Pruning;
using Compress.Engine.Pruning.FineGrained;
using ScottPlot;
using TorchSharp;
using static Compress.Engine.Analysis.PlotOutput;
using static TorchSharp.torch;

namespace Compress.Engine.Analysis;

/// <summary>
/// Weight-value histograms of every prunable layer in one PNG, a grid of small charts (the lab's
/// <c>plot_weight_distribution</c>): the dense weights in blue and, with a mask, the weights that survive pruning in
/// orange on the same bins. The pruned entries are left out of the "after" histogram rather than shown as a spike at
/// zero, which would flatten everything else (the lab's <c>count_nonzero_only</c>); the gap around zero is what
/// magnitude pruning removed.
/// </summary>
public static class WeightHistogramPlot
{
    private const int CellWidth = 320;
    private const int CellHeight = 240;
    private const int Bins = 40;
    private static readonly Color DenseColor = Colors.SteelBlue.WithAlpha(0.6);
    private static readonly Color KeptColor = Colors.OrangeRed.WithAlpha(0.7);

    /// <summary>
    /// Writes the grid for <paramref name="model"/>'s prunable weights (every parameter with dim &gt; 1, module order;
    /// or only <paramref name="layers"/>) to <paramref name="path"/> as a PNG, ceil(√n) cells wide, 320 × 240 pixels per
    /// cell (temp file then move). <paramref name="mask"/> (true = kept), e.g. from
    /// <see cref="LayerwiseMagnitudePruner.Compute"/>, adds the "after" histogram to the layers it covers. The dense
    /// histogram is of the model's current weights, so call this before <see cref="PruningMask.Apply"/>. CMP0750 for a layer that is not a
    /// prunable weight; CMP0305 warning without fonts; CMP0004 when the file cannot be written.
    /// </summary>
    public static void WritePng(nn.Module model, string path, PruningMask? mask = null, IReadOnlyList<string>? layers = null,
        IDiagnosticSink? sink = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrEmpty(path);
        var names = layers ?? LayerwiseMagnitudePruner.PrunableParameters(model);
        var parameters = LayerwiseMagnitudePruner.Resolve(model, names);
        var data = new List<(string Name, float[] Before, float[]? After)>(names.Count);
        foreach (var name in names)
        {
            Tensor? kept = null;
            mask?.Masks.TryGetValue(name, out kept);
            data.Add((name, Values(parameters[name], null), kept is null ? null : Values(parameters[name], kept)));
        }
        byte[] png = Render(data, out bool hasFont);
        Write(png, path, hasFont, sink);
    }

    /// <summary>The PNG bytes; <paramref name="hasFont"/> is false when no font could render the text.</summary>
    internal static byte[] Render(IReadOnlyList<(string Name, float[] Before, float[]? After)> layers, out bool hasFont)
    {
        hasFont = HasFont();
        int n = Math.Max(1, layers.Count);
        int columns = (int)Math.Ceiling(Math.Sqrt(n));
        int rows = (n + columns - 1) / columns;
        var multiplot = new Multiplot();
        var plots = new List<Plot>();
        try
        {
            while (multiplot.Subplots.Count < n) multiplot.AddPlot();
            plots.AddRange(multiplot.Subplots.GetPlots());
            for (int i = 0; i < layers.Count; i++) Draw(plots[i], layers[i], hasFont, legend: i == 0);
            multiplot.Layout = new ScottPlot.MultiplotLayouts.Grid(rows, columns);
            using var image = multiplot.Render(columns * CellWidth, rows * CellHeight);
            return image.GetImageBytes(ImageFormat.Png, 100);
        }
        finally
        {
            foreach (var plot in plots) plot.Dispose();
        }
    }

    private static void Draw(Plot plot, (string Name, float[] Before, float[]? After) layer, bool hasFont, bool legend)
    {
        var (name, before, after) = layer;
        double min = before.Length == 0 ? -1 : before.Min(), max = before.Length == 0 ? 1 : before.Max();
        if (!(max > min))
        {
            min -= 0.5;
            max += 0.5;
        }
        var dense = ScottPlot.Statistics.Histogram.WithBinCount(Bins, min, max);
        foreach (float v in before) dense.Add(v);
        plot.Add.Histogram(dense, DenseColor);
        if (after is not null)
        {
            var pruned = ScottPlot.Statistics.Histogram.WithBinCount(Bins, min, max);
            foreach (float v in after) pruned.Add(v);
            plot.Add.Histogram(pruned, KeptColor);
        }
        if (legend)
        {
            string? sans = hasFont ? SansFont() : null;
            var items = new List<LegendItem> { new() { LabelText = "dense", FillColor = DenseColor } };
            if (after is not null) items.Add(new() { LabelText = "kept (pruned left out)", FillColor = KeptColor });
            // Manual legend items carry their own font; the plot-wide font below does not reach them.
            if (sans is not null) foreach (var item in items) item.LabelFontName = sans;
            plot.ShowLegend(items, Alignment.UpperRight);
        }
        plot.Title(PlotOutput.Invariant($"{name} ({before.Length:N0})"), size: 11);
        plot.Axes.Left.TickLabelStyle.FontSize = 9;
        plot.Axes.Bottom.TickLabelStyle.FontSize = 9;
        UseSans(plot, hasFont);
    }

    /// <summary>The tensor's values as float32 on the CPU; with <paramref name="kept"/>, only the entries it keeps.</summary>
    private static float[] Values(Tensor parameter, Tensor? kept)
    {
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        var values = parameter.detach().to(ScalarType.Float32, CPU).reshape(-1);
        if (kept is not null) values = values.masked_select(kept.to(CPU).reshape(-1));
        return values.contiguous().data<float>().ToArray();
    }
}

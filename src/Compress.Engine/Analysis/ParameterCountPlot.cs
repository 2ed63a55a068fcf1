using Compress.Engine.Diagnostics;
using Compress.Engine.Pruning.FineGrained;
using ScottPlot;
using static Compress.Engine.Analysis.PlotOutput;

namespace Compress.Engine.Analysis;

/// <summary>
/// Parameter count per layer as a bar chart (the lab's <c>plot_num_parameters_distribution</c>): the large layers are
/// where pruning saves the most. With per-layer sparsities, a narrower bar inside each shows what remains.
/// </summary>
public static class ParameterCountPlot
{
    private const int Height = 600;

    /// <summary>
    /// Writes one bar per scanned layer of <paramref name="scan"/>, in module order, to <paramref name="path"/> (PNG,
    /// 600 pixels high, at least 900 wide, wider with many layers; temp file then move). With
    /// <paramref name="sparsities"/> (e.g. <see cref="SparsityProposalResult.Sparsities"/>) each layer also gets a bar
    /// for the weights kept, <c>n - round(n × s)</c>. CMP0305 warning without fonts; CMP0004 when it cannot be written.
    /// </summary>
    public static void WritePng(SensitivityResult scan, string path, IReadOnlyDictionary<string, double>? sparsities = null,
        string? title = null, IDiagnosticSink? sink = null)
    {
        ArgumentNullException.ThrowIfNull(scan);
        ArgumentException.ThrowIfNullOrEmpty(path);
        var layers = scan.Layers.Select(l => (l.Name, l.ParameterCount)).ToList();
        byte[] png = Render(layers, sparsities, title, out bool hasFont);
        Write(png, path, hasFont, sink);
    }

    /// <summary>
    /// The same chart for the prunable weights of <paramref name="model"/> (every parameter with dim &gt; 1), without
    /// needing a scan.
    /// </summary>
    public static void WritePng(TorchSharp.torch.nn.Module model, string path, IReadOnlyDictionary<string, double>? sparsities = null,
        string? title = null, IDiagnosticSink? sink = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrEmpty(path);
        var layers = model.named_parameters().Where(p => p.parameter.dim() > 1).Select(p => (p.name, p.parameter.numel())).ToList();
        byte[] png = Render(layers, sparsities, title, out bool hasFont);
        Write(png, path, hasFont, sink);
    }

    /// <summary>The PNG bytes; <paramref name="hasFont"/> is false when no font could render the text.</summary>
    internal static byte[] Render(IReadOnlyList<(string Name, long Count)> layers, IReadOnlyDictionary<string, double>? sparsities,
        string? title, out bool hasFont)
    {
        hasFont = HasFont();
        using var plot = new Plot();
        var all = new List<Bar>(layers.Count);
        var kept = new List<Bar>(layers.Count);
        for (int i = 0; i < layers.Count; i++)
        {
            var (name, count) = layers[i];
            all.Add(new Bar { Position = i, Value = count, Size = 0.8, FillColor = Colors.SteelBlue });
            if (sparsities is not null && sparsities.TryGetValue(name, out double s))
            {
                long remaining = count - LayerwiseMagnitudePruner.ZeroCount(count, s);
                kept.Add(new Bar { Position = i, Value = remaining, Size = 0.45, FillColor = Colors.OrangeRed });
            }
        }
        var dense = plot.Add.Bars(all);
        dense.LegendText = "parameters";
        if (kept.Count > 0)
        {
            var remaining = plot.Add.Bars(kept);
            remaining.LegendText = "kept after pruning";
            plot.ShowLegend(Alignment.UpperLeft);
        }
        double[] positions = [.. Enumerable.Range(0, layers.Count).Select(i => (double)i)];
        string[] labels = [.. layers.Select(l => l.Name)];
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(positions, labels);
        // Names end at their bar and run down to the left, so long ones stay inside the image.
        plot.Axes.Bottom.TickLabelStyle.Rotation = -45;
        plot.Axes.Bottom.TickLabelStyle.Alignment = Alignment.MiddleRight;
        int longest = layers.Count == 0 ? 0 : layers.Max(l => l.Name.Length);
        plot.Axes.Bottom.MinimumSize = Math.Min(300, 20 + 6 * longest);
        plot.Axes.Margins(bottom: 0);
        plot.Title(title ?? Invariant($"Parameters per layer ({layers.Sum(l => l.Count):N0} in {layers.Count} prunable weights)"));
        plot.YLabel("parameters");
        UseSans(plot, hasFont);
        int width = Math.Max(900, 60 + 28 * layers.Count);
        return plot.GetImageBytes(width, Height, ImageFormat.Png);
    }
}

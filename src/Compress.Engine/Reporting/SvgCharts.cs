using System.Globalization;
using System.Text;
using static Compress.Engine.Reporting.SvgPlot;

namespace Compress.Engine.Reporting;

/// <summary>
/// The report's per-layer charts as SVG text: horizontal bars (one row per layer, so names never overlap, however many
/// layers), a heat-map (layers x sparsities) and a histogram of two series. Deterministic, no fonts embedded.
/// </summary>
internal static class SvgCharts
{
    private const int RowHeight = 16;

    /// <summary>A named series of values, one per row.</summary>
    public sealed record Series(string Name, string Color, IReadOnlyList<double> Values);

    /// <summary>
    /// Grouped horizontal bars: a row per category (label on the left, truncated to fit, the full name as a tooltip),
    /// one bar per series, scaled to the largest value; the value of the last series is written after its bar.
    /// </summary>
    public static string HorizontalBars(string title, IReadOnlyList<string> categories, IReadOnlyList<Series> series,
        Func<double, string> format, int width = 900, double? max = null)
    {
        var c = CultureInfo.InvariantCulture;
        const int labelWidth = 230, top = 44, valueWidth = 120;
        int barHeight = Math.Max(4, (RowHeight - 4) / Math.Max(1, series.Count));
        int height = top + categories.Count * RowHeight + 30;
        double top1 = max ?? series.SelectMany(s => s.Values).Where(double.IsFinite).DefaultIfEmpty(1).Max();
        if (!(top1 > 0)) top1 = 1;
        double scale = (width - labelWidth - valueWidth - 10) / top1;
        var svg = new StringBuilder();
        svg.Append(c, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" font-family=\"sans-serif\" font-size=\"11\">");
        svg.Append(c, $"<rect width=\"{width}\" height=\"{height}\" fill=\"#ffffff\"/>");
        svg.Append(c, $"<text x=\"{width / 2}\" y=\"18\" text-anchor=\"middle\" font-size=\"15\" font-weight=\"bold\">{Escape(title)}</text>");
        for (int s = 0; s < series.Count; s++)
        {
            int lx = labelWidth + s * 200;
            svg.Append(c, $"<rect x=\"{lx}\" y=\"27\" width=\"12\" height=\"10\" fill=\"{series[s].Color}\"/><text x=\"{lx + 16}\" y=\"36\">{Escape(series[s].Name)}</text>");
        }
        for (int r = 0; r < categories.Count; r++)
        {
            int y = top + r * RowHeight;
            if (r % 2 == 1) svg.Append(c, $"<rect x=\"0\" y=\"{y}\" width=\"{width}\" height=\"{RowHeight}\" fill=\"#f6f6f6\"/>");
            string name = categories[r];
            string shown = name.Length > 34 ? "…" + name[^33..] : name;
            svg.Append(c, $"<text x=\"{labelWidth - 6}\" y=\"{y + RowHeight - 4}\" text-anchor=\"end\"><title>{Escape(name)}</title>{Escape(shown)}</text>");
            for (int s = 0; s < series.Count; s++)
            {
                double v = r < series[s].Values.Count ? series[s].Values[r] : double.NaN;
                if (!double.IsFinite(v)) continue;
                double w = Math.Max(0, Math.Min(v, top1) * scale);
                svg.Append(c, $"<rect x=\"{labelWidth}\" y=\"{y + 2 + s * barHeight}\" width=\"{Num(w)}\" height=\"{barHeight - 1}\" fill=\"{series[s].Color}\"><title>{Escape(name)}: {Escape(series[s].Name)} {Escape(format(v))}</title></rect>");
            }
            var lastValues = series[^1].Values;
            if (r < lastValues.Count && double.IsFinite(lastValues[r]))
            {
                double longest = series.Max(s => r < s.Values.Count && double.IsFinite(s.Values[r]) ? Math.Min(s.Values[r], top1) * scale : 0);
                svg.Append(c, $"<text x=\"{Num(labelWidth + longest + 4)}\" y=\"{y + RowHeight - 4}\" fill=\"#333\">{Escape(format(lastValues[r]))}</text>");
            }
        }
        svg.Append(c, $"<line x1=\"{labelWidth}\" y1=\"{top}\" x2=\"{labelWidth}\" y2=\"{top + categories.Count * RowHeight}\" stroke=\"#666\"/>");
        svg.Append("</svg>");
        return svg.ToString();
    }

    /// <summary>
    /// A heat-map: a row per layer, a column per sparsity, each cell coloured by the accuracy drop from
    /// <paramref name="reference"/> (white at 0, dark red at <paramref name="worst"/> points or more) and labelled with the accuracy.
    /// </summary>
    public static string Heatmap(string title, IReadOnlyList<string> rows, IReadOnlyList<double> columns, double[][] accuracy,
        double reference, double worst)
    {
        var c = CultureInfo.InvariantCulture;
        const int labelWidth = 230, top = 64, cellWidth = 54;
        int width = Math.Max(520, labelWidth + columns.Count * cellWidth + 20);
        int height = top + rows.Count * RowHeight + 40;
        if (!(worst > 0)) worst = 1;
        var svg = new StringBuilder();
        svg.Append(c, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" font-family=\"sans-serif\" font-size=\"10\">");
        svg.Append(c, $"<rect width=\"{width}\" height=\"{height}\" fill=\"#ffffff\"/>");
        svg.Append(c, $"<text x=\"{width / 2}\" y=\"18\" text-anchor=\"middle\" font-size=\"15\" font-weight=\"bold\">{Escape(title)}</text>");
        svg.Append(c, $"<text x=\"{labelWidth + columns.Count * cellWidth / 2}\" y=\"38\" text-anchor=\"middle\" font-size=\"11\">sparsity of the layer (cell: accuracy %, colour: drop from {reference:0.00}%)</text>");
        for (int j = 0; j < columns.Count; j++)
            svg.Append(c, $"<text x=\"{labelWidth + j * cellWidth + cellWidth / 2}\" y=\"{top - 6}\" text-anchor=\"middle\" font-size=\"11\">{columns[j]:0.##}</text>");
        for (int i = 0; i < rows.Count; i++)
        {
            int y = top + i * RowHeight;
            string name = rows[i];
            string shown = name.Length > 34 ? "…" + name[^33..] : name;
            svg.Append(c, $"<text x=\"{labelWidth - 6}\" y=\"{y + RowHeight - 4}\" text-anchor=\"end\" font-size=\"11\"><title>{Escape(name)}</title>{Escape(shown)}</text>");
            for (int j = 0; j < columns.Count; j++)
            {
                double a = j < accuracy[i].Length ? accuracy[i][j] : double.NaN;
                double drop = Math.Clamp((reference - a) / worst, 0, 1);
                string fill = double.IsFinite(a) ? Red(drop) : "#dddddd";
                svg.Append(c, $"<rect x=\"{labelWidth + j * cellWidth}\" y=\"{y}\" width=\"{cellWidth - 1}\" height=\"{RowHeight - 1}\" fill=\"{fill}\"><title>{Escape(name)} at {columns[j]:0.##}: {a:0.00}%</title></rect>");
                if (double.IsFinite(a))
                    svg.Append(c, $"<text x=\"{labelWidth + j * cellWidth + cellWidth / 2}\" y=\"{y + RowHeight - 4}\" text-anchor=\"middle\" fill=\"{(drop > 0.55 ? "#fff" : "#222")}\">{a:0.0}</text>");
            }
        }
        // Colour key.
        int ky = top + rows.Count * RowHeight + 14;
        for (int k = 0; k <= 10; k++)
            svg.Append(c, $"<rect x=\"{labelWidth + k * 20}\" y=\"{ky}\" width=\"20\" height=\"10\" fill=\"{Red(k / 10.0)}\"/>");
        svg.Append(c, $"<text x=\"{labelWidth - 6}\" y=\"{ky + 9}\" text-anchor=\"end\">drop 0</text><text x=\"{labelWidth + 226}\" y=\"{ky + 9}\">{worst:0.#} points or more</text>");
        svg.Append("</svg>");
        return svg.ToString();
    }

    /// <summary>White (0) to dark red (1).</summary>
    private static string Red(double t)
    {
        int r = (int)Math.Round(255 - t * (255 - 165));
        int g = (int)Math.Round(255 - t * 255);
        int b = (int)Math.Round(255 - t * (255 - 15));
        return string.Create(CultureInfo.InvariantCulture, $"#{r:x2}{g:x2}{Math.Min(255, b):x2}");
    }

    /// <summary>Two histograms over the same bins of [-limit, limit], as outlined steps on a square-root count axis.</summary>
    public static string Histogram(string title, double limit, IReadOnlyList<Series> series, string note)
    {
        int bins = series.Count == 0 ? 0 : series[0].Values.Count;
        double maxCount = series.SelectMany(s => s.Values).DefaultIfEmpty(1).Max();
        var plot = new SvgPlot(900, 380, title, "weight value (" + note + ")", "count (square-root scale)")
            .Limits(-limit, limit, 0, Math.Sqrt(Math.Max(1, maxCount)) * 1.05)
            .Formats(y: v => (v * v).ToString("N0", CultureInfo.InvariantCulture), x: v => v.ToString("0.###", CultureInfo.InvariantCulture));
        double width = bins == 0 ? 1 : 2 * limit / bins;
        foreach (var s in series)
        {
            var xs = new List<double>();
            var ys = new List<double>();
            for (int i = 0; i < bins; i++)
            {
                double x0 = -limit + i * width, y = Math.Sqrt(s.Values[i]);
                xs.Add(x0);
                ys.Add(y);
                xs.Add(x0 + width);
                ys.Add(y);
            }
            plot.Line(xs, ys, s.Color, s.Name, width: 1.8);
        }
        return plot.Render();
    }
}

using System.Globalization;
using System.Security;
using System.Text;

namespace Compress.Engine.Reporting;

/// <summary>
/// A small x-y chart written as SVG text, for the HTML report: lines, markers, vertical and horizontal rules, axes with
/// round ticks and a legend below the plot area (so it never covers data or ticks). No fonts are embedded: the browser
/// draws the text with its sans-serif face. The same inputs give the same bytes.
/// </summary>
internal sealed class SvgPlot
{
    /// <summary>Colour-blind-safe palette (Okabe and Ito) used in order for series without a colour.</summary>
    public static readonly string[] Palette = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"];

    private const int Left = 70, Right = 20, Top = 36, Bottom = 52, LegendRow = 18;
    private readonly int _width, _height;
    private readonly string _title, _xLabel, _yLabel;
    private readonly List<Action<StringBuilder>> _items = [];
    private readonly List<(string Color, string Label, string Kind)> _legend = [];
    private double _x0, _x1 = 1, _y0, _y1 = 1;
    private Func<double, string> _xFormat = v => v.ToString("0.##", CultureInfo.InvariantCulture);
    private Func<double, string> _yFormat = v => v.ToString("0.##", CultureInfo.InvariantCulture);

    public SvgPlot(int width, int height, string title, string xLabel, string yLabel)
    {
        (_width, _height, _title, _xLabel, _yLabel) = (width, height, title, xLabel, yLabel);
    }

    /// <summary>Axis limits; call before adding anything.</summary>
    public SvgPlot Limits(double x0, double x1, double y0, double y1)
    {
        if (!(x1 > x0)) x1 = x0 + 1;
        if (!(y1 > y0)) y1 = y0 + 1;
        (_x0, _x1, _y0, _y1) = (x0, x1, y0, y1);
        return this;
    }

    /// <summary>Tick label formats.</summary>
    public SvgPlot Formats(Func<double, string>? x = null, Func<double, string>? y = null)
    {
        if (x is not null) _xFormat = x;
        if (y is not null) _yFormat = y;
        return this;
    }

    private int LegendRows => (_legend.Count + 2) / 3;
    private double PlotBottom => _height - Bottom - LegendRows * LegendRow;
    private double X(double x) => Left + (x - _x0) / (_x1 - _x0) * (_width - Left - Right);
    private double Y(double y) => PlotBottom - (y - _y0) / (_y1 - _y0) * (PlotBottom - Top);

    /// <summary>A polyline through the points (non-finite points break it), optionally with a marker at each point.</summary>
    public SvgPlot Line(IReadOnlyList<double> xs, IReadOnlyList<double> ys, string color, string? label, bool dashed = false,
        bool markers = false, double width = 2)
    {
        var points = Enumerable.Range(0, Math.Min(xs.Count, ys.Count)).Select(i => (X: xs[i], Y: ys[i])).ToList();
        // Drawn when rendered: the legend's height moves the plot area.
        _items.Add(svg =>
        {
            var run = new List<string>();
            void Flush()
            {
                if (run.Count > 1)
                    svg.Append(CultureInfo.InvariantCulture,
                        $"<polyline points=\"{string.Join(' ', run)}\" fill=\"none\" stroke=\"{color}\" stroke-width=\"{Num(width)}\"{(dashed ? " stroke-dasharray=\"6 4\"" : "")}/>");
                run.Clear();
            }
            foreach (var (x, y) in points)
            {
                if (!double.IsFinite(x) || !double.IsFinite(y))
                {
                    Flush();
                    continue;
                }
                run.Add(Num(X(x)) + "," + Num(Y(y)));
                if (markers) svg.Append(CultureInfo.InvariantCulture, $"<circle cx=\"{Num(X(x))}\" cy=\"{Num(Y(y))}\" r=\"3.5\" fill=\"{color}\"/>");
            }
            Flush();
        });
        if (label is not null) _legend.Add((color, label, dashed ? "dash" : "line"));
        return this;
    }

    /// <summary>One marker with a legend entry.</summary>
    public SvgPlot Point(double x, double y, string color, string? label, bool square = false)
    {
        _items.Add(svg => svg.Append(square
            ? string.Create(CultureInfo.InvariantCulture, $"<rect x=\"{Num(X(x) - 5)}\" y=\"{Num(Y(y) - 5)}\" width=\"10\" height=\"10\" fill=\"{color}\"/>")
            : string.Create(CultureInfo.InvariantCulture, $"<circle cx=\"{Num(X(x))}\" cy=\"{Num(Y(y))}\" r=\"5.5\" fill=\"{color}\" stroke=\"#fff\"/>")));
        if (label is not null) _legend.Add((color, label, square ? "square" : "dot"));
        return this;
    }

    /// <summary>A vertical rule at <paramref name="x"/>.</summary>
    public SvgPlot VRule(double x, string color, string? label)
    {
        _items.Add(svg => svg.Append(CultureInfo.InvariantCulture,
            $"<line x1=\"{Num(X(x))}\" y1=\"{Num(Y(_y1))}\" x2=\"{Num(X(x))}\" y2=\"{Num(Y(_y0))}\" stroke=\"{color}\" stroke-width=\"1.5\" stroke-dasharray=\"5 3\"/>"));
        if (label is not null) _legend.Add((color, label, "dash"));
        return this;
    }

    /// <summary>A horizontal rule at <paramref name="y"/>.</summary>
    public SvgPlot HRule(double y, string color, string? label)
    {
        _items.Add(svg => svg.Append(CultureInfo.InvariantCulture,
            $"<line x1=\"{Num(X(_x0))}\" y1=\"{Num(Y(y))}\" x2=\"{Num(X(_x1))}\" y2=\"{Num(Y(y))}\" stroke=\"{color}\" stroke-width=\"1.5\" stroke-dasharray=\"5 3\"/>"));
        if (label is not null) _legend.Add((color, label, "dash"));
        return this;
    }

    /// <summary>The SVG document.</summary>
    public string Render()
    {
        var c = CultureInfo.InvariantCulture;
        var svg = new StringBuilder();
        svg.Append(c, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{_width}\" height=\"{_height}\" viewBox=\"0 0 {_width} {_height}\" font-family=\"sans-serif\" font-size=\"12\">");
        svg.Append(c, $"<rect width=\"{_width}\" height=\"{_height}\" fill=\"#ffffff\"/>");
        svg.Append(c, $"<text x=\"{_width / 2}\" y=\"22\" text-anchor=\"middle\" font-size=\"15\" font-weight=\"bold\">{Escape(_title)}</text>");
        double px0 = X(_x0), px1 = X(_x1), py0 = Y(_y0), py1 = Y(_y1);
        // Grid and ticks.
        foreach (double t in Ticks(_x0, _x1, 8))
        {
            double x = X(t);
            svg.Append(c, $"<line x1=\"{Num(x)}\" y1=\"{Num(py1)}\" x2=\"{Num(x)}\" y2=\"{Num(py0)}\" stroke=\"#e5e5e5\"/>");
            svg.Append(c, $"<text x=\"{Num(x)}\" y=\"{Num(py0 + 16)}\" text-anchor=\"middle\">{Escape(_xFormat(t))}</text>");
        }
        foreach (double t in Ticks(_y0, _y1, 6))
        {
            double y = Y(t);
            svg.Append(c, $"<line x1=\"{Num(px0)}\" y1=\"{Num(y)}\" x2=\"{Num(px1)}\" y2=\"{Num(y)}\" stroke=\"#e5e5e5\"/>");
            svg.Append(c, $"<text x=\"{Num(px0 - 6)}\" y=\"{Num(y + 4)}\" text-anchor=\"end\">{Escape(_yFormat(t))}</text>");
        }
        svg.Append(c, $"<rect x=\"{Num(px0)}\" y=\"{Num(py1)}\" width=\"{Num(px1 - px0)}\" height=\"{Num(py0 - py1)}\" fill=\"none\" stroke=\"#666\"/>");
        svg.Append(c, $"<text x=\"{Num((px0 + px1) / 2)}\" y=\"{Num(py0 + 34)}\" text-anchor=\"middle\">{Escape(_xLabel)}</text>");
        svg.Append(c, $"<text transform=\"translate(16 {Num((py0 + py1) / 2)}) rotate(-90)\" text-anchor=\"middle\">{Escape(_yLabel)}</text>");
        svg.Append(c, $"<clipPath id=\"plot\"><rect x=\"{Num(px0)}\" y=\"{Num(py1)}\" width=\"{Num(px1 - px0)}\" height=\"{Num(py0 - py1)}\"/></clipPath><g clip-path=\"url(#plot)\">");
        foreach (var draw in _items) draw(svg);
        svg.Append("</g>");
        // Legend: three columns under the x label.
        int column = (_width - Left - Right) / 3;
        for (int i = 0; i < _legend.Count; i++)
        {
            var (color, label, kind) = _legend[i];
            double lx = Left + i % 3 * column, ly = py0 + 52 + i / 3 * LegendRow;
            svg.Append(kind switch
            {
                "dot" => string.Create(c, $"<circle cx=\"{Num(lx + 10)}\" cy=\"{Num(ly - 4)}\" r=\"4\" fill=\"{color}\"/>"),
                "square" => string.Create(c, $"<rect x=\"{Num(lx + 6)}\" y=\"{Num(ly - 8)}\" width=\"8\" height=\"8\" fill=\"{color}\"/>"),
                "dash" => string.Create(c, $"<line x1=\"{Num(lx)}\" y1=\"{Num(ly - 4)}\" x2=\"{Num(lx + 20)}\" y2=\"{Num(ly - 4)}\" stroke=\"{color}\" stroke-width=\"2\" stroke-dasharray=\"5 3\"/>"),
                _ => string.Create(c, $"<line x1=\"{Num(lx)}\" y1=\"{Num(ly - 4)}\" x2=\"{Num(lx + 20)}\" y2=\"{Num(ly - 4)}\" stroke=\"{color}\" stroke-width=\"2\"/>"),
            });
            svg.Append(c, $"<text x=\"{Num(lx + 26)}\" y=\"{Num(ly)}\">{Escape(label)}</text>");
        }
        svg.Append("</svg>");
        return svg.ToString();
    }

    /// <summary>Round tick values (1, 2 or 5 times a power of ten) covering [lo, hi], about <paramref name="count"/> of them.</summary>
    public static IEnumerable<double> Ticks(double lo, double hi, int count)
    {
        double span = hi - lo;
        if (!(span > 0) || !double.IsFinite(span)) yield break;
        double raw = span / count, power = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        double step = raw / power < 1.5 ? power : raw / power < 3.5 ? 2 * power : raw / power < 7.5 ? 5 * power : 10 * power;
        for (double t = Math.Ceiling(lo / step - 1e-9) * step; t <= hi + step * 1e-9; t += step)
            yield return Math.Abs(t) < step * 1e-9 ? 0 : Math.Round(t, 12);
    }

    /// <summary>Invariant, short number text for coordinates.</summary>
    public static string Num(double v) => v.ToString("0.##", CultureInfo.InvariantCulture);

    /// <summary>Text escaped for XML and HTML.</summary>
    public static string Escape(string text) => SecurityElement.Escape(text) ?? "";
}

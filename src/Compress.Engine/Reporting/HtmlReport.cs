using System.Globalization;
using System.Text;
using System.Text.Json;
using static Compress.Engine.Reporting.ReportView;

namespace Compress.Engine.Reporting;

/// <summary>
/// <c>&lt;name&gt;.report.html</c>: one self-contained page (CSS inline, every chart an SVG data URI, a content security
/// policy that forbids any request) with the verdict and the gate, the before/after table, warnings, the rate search,
/// the cosine curve with the knee, utopia point and safe rate, per-layer bars (parameters and nonzeros, so both channel
/// widths and unstructured sparsity show), the weight histograms, the sensitivity heat-map when a scan ran, the
/// dynamic pruning epochs, and the reproducibility record (inputs' hashes, engine version, seed, options).
/// </summary>
public static class HtmlReport
{
    private static readonly CultureInfo C = CultureInfo.InvariantCulture;

    private const string Style = """
        body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;margin:0;color:#1d1d1f;background:#fafafa}
        main{max-width:1000px;margin:0 auto;padding:24px}
        h1{font-size:26px;margin:0 0 6px}h2{font-size:19px;margin:28px 0 10px;border-bottom:1px solid #ddd;padding-bottom:4px}
        .verdict{font-size:18px;padding:12px 16px;border-radius:6px;margin:12px 0}
        .pass{background:#e6f4ea;border:1px solid #34a853}.fail{background:#fce8e6;border:1px solid #d93025}
        .warn{background:#fff4e5;border:1px solid #f29900;padding:10px 14px;border-radius:6px;margin:8px 0}
        .cards{display:flex;flex-wrap:wrap;gap:12px;margin:12px 0}
        .card{background:#fff;border:1px solid #ddd;border-radius:6px;padding:10px 14px;min-width:150px}
        .card b{display:block;font-size:22px}.card span{color:#555;font-size:13px}
        table{border-collapse:collapse;background:#fff;margin:8px 0;font-size:14px}
        th,td{border:1px solid #ddd;padding:5px 9px;text-align:left;vertical-align:top}td.n{text-align:right;font-variant-numeric:tabular-nums}
        th{background:#f0f0f0}code{font-size:12px;word-break:break-all}
        figure{margin:10px 0;background:#fff;border:1px solid #ddd;border-radius:6px;padding:6px;overflow-x:auto}
        figure img{display:block;max-width:100%;height:auto}figcaption{color:#555;font-size:13px;margin-top:4px}
        .muted{color:#666;font-size:13px}
        """;

    /// <summary>
    /// Renders the report <paramref name="report"/> (the JSON of a build report); <paramref name="plotLinks"/> are relative
    /// links (from the HTML file) to the PNG plots the run drew, listed under "Files".
    /// </summary>
    public static string Render(JsonElement report, IReadOnlyList<string>? plotLinks = null)
    {
        var v = new ReportView(report);
        var h = new StringBuilder();
        string name = E(v.Name);
        h.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
        // Nothing may leave the file: no scripts, no fetches; images only from data URIs.
        h.Append("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">");
        h.Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">");
        h.Append(C, $"<title>Compress report: {name}</title><style>{Style}</style></head><body><main>");
        h.Append(C, $"<h1>Compress report: {name}</h1>");
        h.Append(C, $"<p class=\"muted\">Model <code>{E(v.Text("model") ?? "")}</code>, method <b>{E(v.Text("options.method") ?? "global")}</b>, seed {Count(v.Number("seed"))}, engine {E(v.Text("engineVersion") ?? "?")}.</p>");
        h.Append(C, $"<div id=\"verdict\" class=\"verdict {(v.Passed ? "pass" : "fail")}\"><b>Gate {(v.Passed ? "passed" : "failed")}</b>");
        if (!v.Passed) h.Append(C, $": {E(v.Text("gate.reason") ?? "")}");
        var conditions = v.GateConditions();
        h.Append(C, $"<br><span class=\"muted\">Gate: {E(conditions.Count == 0 ? "none set" : string.Join(", ", conditions))}. Artifact: <code>{E(v.Text("onnx") ?? "")}</code></span></div>");

        h.Append("<div class=\"cards\">");
        Card(h, "rate", Fixed(v.Number("rate.value")), v.Text("rate.source") ?? "");
        Card(h, "accuracy-onnx", Percent(v.Number("accuracy.onnx")), "artifact accuracy (ONNX Runtime)");
        Card(h, "accuracy-unpruned", Percent(v.Number("accuracy.unpruned")), "unpruned accuracy");
        Card(h, "size", Ratio(Divide(v.Number("structure.bytesBefore"), v.Number("structure.bytesAfter"))), "smaller file");
        Card(h, "speedup", Ratio(v.Number("structure.speedup")), "faster (batch 1, ONNX Runtime)");
        Card(h, "macs", Ratio(v.Number("structure.macsRatio")), "fewer MACs");
        h.Append("</div>");

        foreach (var w in v.Array("warnings"))
            h.Append(C, $"<div class=\"warn\"><b>warning {E(Text(w, "code") ?? "")}</b>: {E(Text(w, "message") ?? "")}</div>");

        h.Append("<h2 id=\"before-after\">Before and after</h2><table><tr><th></th><th>unpruned</th><th>artifact</th><th>change</th></tr>");
        foreach (var (metric, before, after, change) in v.BeforeAfter())
            h.Append(C, $"<tr><th>{E(metric)}</th><td class=\"n\">{E(before)}</td><td class=\"n\">{E(after)}</td><td class=\"n\">{E(change)}</td></tr>");
        h.Append("</table>");
        h.Append(C, $"<p class=\"muted\">Both models as ONNX (BatchNorm folded), measured the same way: gzip at the optimal level (zeros compress, so unstructured sparsity shows there), latency timed alternately in ONNX Runtime ({E(v.Text("latency.device") ?? "cpu")}, batch 1) over {Count(v.Number("structure.latencyRuns"))} runs each. Accuracy after pruning {Percent(v.Number("accuracy.pruned"))}, after fine-tuning {Percent(v.Number("accuracy.fineTuned"))} (TorchSharp).</p>");

        Search(h, v);
        Curve(h, v);
        Layers(h, v);
        Histogram(h, v);
        Sensitivity(h, v);
        Dynamic(h, v);
        Reproducibility(h, v, plotLinks ?? []);
        h.Append("</main></body></html>\n");
        return h.ToString();
    }

    private static void Card(StringBuilder h, string id, string value, string caption) =>
        h.Append(C, $"<div class=\"card\" id=\"card-{id}\"><b>{E(value)}</b><span>{E(caption)}</span></div>");

    private static void Figure(StringBuilder h, string id, string svg, string caption)
    {
        string data = Convert.ToBase64String(Encoding.UTF8.GetBytes(svg));
        h.Append(C, $"<figure id=\"{id}\"><img alt=\"{E(caption)}\" src=\"data:image/svg+xml;base64,{data}\"><figcaption>{E(caption)}</figcaption></figure>");
    }

    private static void Search(StringBuilder h, ReportView v)
    {
        var trials = v.Array("search.trials");
        if (trials.Count == 0) return;
        string knob = v.Text("search.knob") ?? "rate";
        h.Append("<h2 id=\"search\">Rate search</h2>");
        h.Append(C, $"<p>Bisection of <code>{E(knob)}</code> between 0 and {Fixed(v.Number("search.upper"))} in at most {Count(v.Number("search.maxTrials"))} trials: ");
        h.Append(v.Number("search.chosen") is double chosen ? string.Create(C, $"chose <b>{chosen:0.####}</b>, the largest that passed.</p>") : "no value passed.</p>");
        h.Append(C, $"<table><tr><th>trial</th><th>{E(knob)}</th><th>ONNX accuracy</th><th>bytes</th><th>speedup</th><th>gate</th><th>seconds</th></tr>");
        foreach (var t in trials)
        {
            bool passed = At(t, "passed") is { ValueKind: JsonValueKind.True };
            h.Append(C, $"<tr><td class=\"n\">{Count(Number(t, "trial"))}</td><td class=\"n\">{Fixed(Number(t, "rate"))}</td><td class=\"n\">{Percent(Number(t, "accuracyOnnx"))}</td>");
            h.Append(C, $"<td class=\"n\">{Count(Number(t, "bytes"))}</td><td class=\"n\">{Ratio(Number(t, "speedup"))}</td><td>{(passed ? "passed" : "failed: " + E(Text(t, "reason") ?? ""))}</td><td class=\"n\">{Fixed(Number(t, "seconds"), "0.0")}</td></tr>");
        }
        h.Append("</table>");
        var sorted = trials.Select(t => (Rate: Number(t, "rate") ?? 0, Accuracy: Number(t, "accuracyOnnx") ?? double.NaN, Passed: At(t, "passed") is { ValueKind: JsonValueKind.True }))
            .OrderBy(t => t.Rate).ToList();
        double unpruned = v.Number("accuracy.unpruned") ?? double.NaN;
        var accuracies = sorted.Select(t => t.Accuracy).Append(unpruned).Where(double.IsFinite).ToList();
        double? floor = GateFloor(v, unpruned);
        if (floor is double f) accuracies.Add(f);
        double low = accuracies.Count > 0 ? accuracies.Min() : 0, high = accuracies.Count > 0 ? accuracies.Max() : 100;
        var plot = new SvgPlot(900, 380, "Rate search: artifact accuracy against " + knob, knob, "ONNX accuracy (%)")
            .Limits(0, Math.Max(0.05, (v.Number("search.upper") ?? 1) * 1.05), Math.Max(0, low - 3), Math.Min(100, high + 3));
        plot.Line([.. sorted.Select(t => t.Rate)], [.. sorted.Select(t => t.Accuracy)], SvgPlot.Palette[0], "trials", markers: true);
        foreach (var t in sorted.Where(t => t.Passed)) plot.Point(t.Rate, t.Accuracy, SvgPlot.Palette[2], null);
        if (double.IsFinite(unpruned)) plot.HRule(unpruned, "#555555", string.Create(C, $"unpruned {unpruned:0.00}%"));
        if (floor is double gateLine) plot.HRule(gateLine, SvgPlot.Palette[1], string.Create(C, $"gate {gateLine:0.00}%"));
        if (v.Number("search.chosen") is double ch) plot.VRule(ch, SvgPlot.Palette[2], string.Create(C, $"chosen {ch:0.####}"));
        Figure(h, "search-plot", plot.Render(), "Each trial's ONNX accuracy (green: passed the gate) with the gate's accuracy line.");
    }

    /// <summary>The lowest accuracy the gate accepts, from its accuracy conditions (null when it has none).</summary>
    private static double? GateFloor(ReportView v, double unpruned)
    {
        var floors = new List<double>();
        if (v.Number("gate.minAccuracy") is double min) floors.Add(min);
        if (v.Number("gate.maxAccuracyDrop") is double drop && double.IsFinite(unpruned)) floors.Add(unpruned - drop);
        if (v.Number("gate.maxRelativeAccuracyDrop") is double rel && double.IsFinite(unpruned)) floors.Add(unpruned * (1 - rel / 100));
        return floors.Count == 0 ? null : floors.Max();
    }

    private static void Curve(StringBuilder h, ReportView v)
    {
        var rates = Numbers(v.At("curve.rates"));
        var cosine = Numbers(v.At("curve.cosine"));
        if (rates.Count == 0 || cosine.Count == 0) return;
        double kneeRate = v.Number("curve.kneeRate") ?? double.NaN, kneeCosine = v.Number("curve.kneeCosine") ?? double.NaN;
        double safe = v.Number("curve.safeRate") ?? double.NaN, applied = v.Number("rate.value") ?? double.NaN;
        double low = Math.Max(0, Math.Min(cosine.Where(double.IsFinite).DefaultIfEmpty(0).Min(), double.IsFinite(kneeCosine) ? kneeCosine : 1) - 0.05);
        var plot = new SvgPlot(900, 480, "Cosine similarity of the globally L1-pruned parameters", "prune rate", "cosine similarity to the unpruned weights")
            .Limits(0, 1.02, low, 1.03);
        plot.Line(rates, cosine, SvgPlot.Palette[0], "cosine similarity");
        if (double.IsFinite(kneeRate))
        {
            plot.Line([kneeRate, 1], [kneeCosine, 1], "#777777", string.Create(C, $"knee to utopia ({Math.Sqrt(Math.Pow(1 - kneeRate, 2) + Math.Pow(1 - kneeCosine, 2)):0.000})"), dashed: true, width: 1.5);
            plot.Point(kneeRate, kneeCosine, SvgPlot.Palette[1], string.Create(C, $"knee: rate {kneeRate:0.00}, cosine {kneeCosine:0.000}"));
        }
        plot.Point(1, 1, "#000000", "utopia (1, 1)", square: true);
        if (double.IsFinite(safe)) plot.VRule(safe, SvgPlot.Palette[2], string.Create(C, $"safe rate {safe:0.000} (K = {v.Number("rate.kurtosisOfKurtoses") ?? double.NaN:0.00})"));
        if (double.IsFinite(applied) && Math.Abs(applied - safe) > 1e-6 && (v.Text("options.method") ?? "global") is "global" or "unstructured")
            plot.VRule(applied, SvgPlot.Palette[3], string.Create(C, $"applied {applied:0.####}"));
        h.Append("<h2 id=\"analysis\">Analysis: the cosine curve</h2>");
        h.Append(C, $"<p>Knee {Fixed(v.Number("rate.knee"))}, kurtosis of kurtoses K = {Fixed(v.Number("rate.kurtosisOfKurtoses"), "0.###")}, modifier {Fixed(v.Number("rate.modifier"))}, safe rate {Fixed(v.Number("rate.safeRate"))}; applied {Fixed(v.Number("rate.value"))} ({E(v.Text("rate.source") ?? "")}).</p>");
        Figure(h, "cosine-plot", plot.Render(), "The knee is the point nearest the utopia point (1, 1); the safe rate is the knee scaled by the kurtosis modifier.");
    }

    private static void Layers(StringBuilder h, ReportView v)
    {
        var layers = v.Array("structure.layers").Where(l => (Number(l, "parametersBefore") ?? 0) > 0).ToList();
        if (layers.Count == 0) return;
        var names = layers.Select(l => Text(l, "name") ?? "?").ToList();
        h.Append("<h2 id=\"layers\">Per layer</h2>");
        var before = layers.Select(l => Number(l, "parametersBefore") ?? double.NaN).ToList();
        var after = layers.Select(l => Number(l, "parametersAfter") ?? 0).ToList();
        var nonzeros = layers.Select(l => Number(l, "nonzerosAfter") ?? 0).ToList();
        Figure(h, "layer-parameters", SvgCharts.HorizontalBars("Parameters per layer: unpruned, artifact, nonzero in the artifact", names,
            [new("unpruned", "#b0b0b0", before), new("artifact", SvgPlot.Palette[0], after), new("nonzero", SvgPlot.Palette[1], nonzeros)], x => Count(x)),
            "Stored parameters of each ONNX node (weights, biases) before and after, and how many are nonzero: channel pruning shortens the blue bar, unstructured pruning only the orange one.");
        var sparsity = layers.Select(l => Number(l, "parametersAfter") is double p && p > 0 ? 1 - (Number(l, "nonzerosAfter") ?? p) / p : double.NaN).ToList();
        if (sparsity.Any(s => s > 0))
            Figure(h, "layer-sparsity", SvgCharts.HorizontalBars("Sparsity per layer (zeros among the artifact's parameters)", names,
                [new("sparsity", SvgPlot.Palette[3], sparsity)], s => s.ToString("P1", C), max: 1), "Fraction of each node's stored parameters that are exactly zero.");
        var channels = v.Array("channels").Where(g => Text(g, "excludedReason") is null).ToList();
        if (channels.Count > 0)
        {
            var groupNames = channels.Select(g => At(g, "producers") is { ValueKind: JsonValueKind.Array } p ? string.Join(", ", p.EnumerateArray().Select(x => x.GetString())) : "?").ToList();
            Figure(h, "channel-widths", SvgCharts.HorizontalBars("Channels per prunable group: before and kept", groupNames,
                [new("before", "#b0b0b0", [.. channels.Select(g => Number(g, "channelsBefore") ?? 0)]), new("kept", SvgPlot.Palette[0], [.. channels.Select(g => Number(g, "channelsAfter") ?? 0)])],
                x => x.ToString("0", C)), "Output channels of each channel group (named by its producers), before and after channel pruning.");
        }
    }

    private static void Histogram(StringBuilder h, ReportView v)
    {
        var before = Numbers(v.At("histogram.before"));
        var after = Numbers(v.At("histogram.after"));
        double limit = v.Number("histogram.limit") ?? 0;
        if (before.Count == 0 || !(limit > 0)) return;
        h.Append("<h2 id=\"histograms\">Weights</h2>");
        h.Append(C, $"<p>Convolution and linear weights: {Count(v.Number("histogram.zerosBefore"))} exactly zero before, {Count(v.Number("histogram.zerosAfter"))} after (not in the bins).</p>");
        Figure(h, "weight-histogram", SvgCharts.Histogram("Weight histogram: unpruned and artifact", limit,
            [new("unpruned", "#7f7f7f", before), new("artifact", SvgPlot.Palette[0], after)], "zeros excluded"),
            "Nonzero weights in equal bins; magnitude pruning empties the middle, fine-tuning moves the rest.");
    }

    private static void Sensitivity(StringBuilder h, ReportView v)
    {
        var layers = v.Array("sensitivity.layers");
        var sparsities = Numbers(v.At("sensitivity.sparsities"));
        if (layers.Count == 0 || sparsities.Count == 0) return;
        double dense = v.Number("sensitivity.denseAccuracy") ?? 0;
        var rows = layers.Select(l => Text(l, "name") ?? "?").ToList();
        var values = layers.Select(l => sparsities.Select(s =>
            At(l, "points") is { ValueKind: JsonValueKind.Array } points
                ? points.EnumerateArray().Where(p => Math.Abs((Number(p, "sparsity") ?? -1) - s) < 1e-9).Select(p => Number(p, "accuracy") ?? double.NaN).DefaultIfEmpty(double.NaN).First()
                : double.NaN).ToArray()).ToArray();
        double worst = Math.Max(1, values.SelectMany(r => r).Where(double.IsFinite).Select(a => dense - a).DefaultIfEmpty(1).Max());
        h.Append("<h2 id=\"sensitivity\">Sensitivity scan</h2>");
        h.Append(C, $"<p>Each layer pruned alone (fine-grained magnitude) at each sparsity, test accuracy without fine-tuning; dense {Percent(dense)}.</p>");
        Figure(h, "sensitivity-heatmap", SvgCharts.Heatmap("Sensitivity: accuracy with one layer pruned", rows, sparsities, values, dense, worst),
            "Darker cells lose more accuracy: those layers get lower sparsities.");
    }

    private static void Dynamic(StringBuilder h, ReportView v)
    {
        var epochs = v.Array("dynamic.epochs");
        if (epochs.Count == 0) return;
        h.Append("<h2 id=\"dynamic\">Dynamic pruning</h2>");
        h.Append(C, $"<p>Variant {E(v.Text("dynamic.variant") ?? "?")}, target {Fixed(v.Number("dynamic.target"))}, reached {Fixed(v.Number("dynamic.sparsity"))}.</p>");
        h.Append("<table><tr><th>epoch</th><th>sparsity</th><th>test accuracy</th><th>mean |r| of filters</th></tr>");
        foreach (var e in epochs)
            h.Append(C, $"<tr><td class=\"n\">{Count(Number(e, "epoch"))}</td><td class=\"n\">{Fixed(Number(e, "sparsity"))}</td><td class=\"n\">{Percent(Number(e, "accuracy"))}</td><td class=\"n\">{Fixed(Number(e, "meanAbsoluteCorrelation"))}</td></tr>");
        h.Append("</table>");
    }

    private static void Reproducibility(StringBuilder h, ReportView v, IReadOnlyList<string> plotLinks)
    {
        h.Append("<h2 id=\"reproducibility\">Reproducibility</h2><table>");
        h.Append(C, $"<tr><th>engine</th><td>{E(v.Text("engineVersion") ?? "?")}</td></tr><tr><th>seed</th><td>{Count(v.Number("seed"))}</td></tr>");
        if (v.At("inputs") is { ValueKind: JsonValueKind.Object } inputs)
            foreach (var p in inputs.EnumerateObject())
                h.Append(C, $"<tr><th>{E(p.Name)}</th><td><code>{E(p.Value.ToString())}</code></td></tr>");
        h.Append(C, $"<tr><th>baseline</th><td>{(v.Bool("baselineCached") == true ? "from the cache" : "trained or imported this run")}</td></tr>");
        if (v.At("seconds") is { ValueKind: JsonValueKind.Object } seconds)
            h.Append(C, $"<tr><th>seconds</th><td>{E(string.Join(", ", seconds.EnumerateObject().Select(p => string.Create(C, $"{p.Name} {Number(p.Value) ?? 0:0.0}"))))}</td></tr>");
        h.Append("</table>");
        if (v.At("options") is { ValueKind: JsonValueKind.Object } options)
        {
            h.Append("<details><summary>Options (the resolved spec)</summary><table>");
            foreach (var p in options.EnumerateObject().Where(p => p.Value.ValueKind != JsonValueKind.Null))
                h.Append(C, $"<tr><th>{E(p.Name)}</th><td><code>{E(p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()! : p.Value.GetRawText())}</code></td></tr>");
            h.Append("</table></details>");
        }
        if (plotLinks.Count > 0)
        {
            h.Append("<p>Files: ");
            h.Append(string.Join(", ", plotLinks.Select(l => $"<a href=\"{E(l)}\">{E(Path.GetFileName(l))}</a>")));
            h.Append(" (PNG versions of the plots).</p>");
        }
    }

    private static string E(string text) => SvgPlot.Escape(text);
}

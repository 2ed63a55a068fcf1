using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Compress.Engine.Reporting;

/// <summary>
/// <c>&lt;name&gt;.report.md</c>: the verdict, the gate, the before/after table, the rate and (after a search) the
/// trials, in GitHub-flavoured Markdown. It is what a CI job summary shows (GitHub's <c>GITHUB_STEP_SUMMARY</c>, Azure
/// Pipelines' build summary).
/// </summary>
public static class MarkdownReport
{
    private static readonly CultureInfo C = CultureInfo.InvariantCulture;

    /// <summary>Renders the report <paramref name="report"/> (the JSON of a build report).</summary>
    public static string Render(JsonElement report, string? htmlFileName = null)
    {
        var v = new ReportView(report);
        var md = new StringBuilder();
        md.Append(C, $"## Compress: {Cell(v.Name)}: {(v.Passed ? "✅ passed" : "❌ failed")}\n\n");
        if (!v.Passed) md.Append(C, $"**Gate failed:** {Cell(v.Text("gate.reason") ?? "")}\n\n");
        var conditions = v.GateConditions();
        md.Append(C, $"Gate: {(conditions.Count == 0 ? "none set" : string.Join(", ", conditions))}. ");
        md.Append(C, $"Model `{Cell(Path.GetFileName(v.Text("model") ?? ""))}`, method {Cell(v.Text("options.method") ?? "global")}, ");
        md.Append(C, $"rate {ReportView.Fixed(v.Number("rate.value"))} ({Cell(v.Text("rate.source") ?? "")}; knee {ReportView.Fixed(v.Number("rate.knee"))}, safe {ReportView.Fixed(v.Number("rate.safeRate"))}).\n\n");
        md.Append("| | unpruned | artifact | change |\n|---|---:|---:|---:|\n");
        foreach (var (metric, before, after, change) in v.BeforeAfter())
            md.Append(C, $"| {Cell(metric)} | {Cell(before)} | {Cell(after)} | {Cell(change)} |\n");
        md.Append('\n');
        foreach (var w in v.Array("warnings"))
            md.Append(C, $"> ⚠️ **{Cell(ReportView.Text(w, "code") ?? "")}** {Cell(ReportView.Text(w, "message") ?? "")}\n\n");
        var trials = v.Array("search.trials");
        if (trials.Count > 0)
        {
            string knob = v.Text("search.knob") ?? "rate";
            md.Append(C, $"Search ({Cell(knob)}, up to {ReportView.Fixed(v.Number("search.upper"))}, {trials.Count} of at most {ReportView.Count(v.Number("search.maxTrials"))} trials): ");
            md.Append(v.Number("search.chosen") is double chosen ? string.Create(C, $"chose **{chosen:0.####}**.\n\n") : "no value passed.\n\n");
            md.Append(C, $"| trial | {Cell(knob)} | ONNX accuracy | bytes | speedup | gate |\n|---:|---:|---:|---:|---:|---|\n");
            foreach (var t in trials)
            {
                md.Append(C, $"| {ReportView.Count(ReportView.Number(t, "trial"))} | {ReportView.Fixed(ReportView.Number(t, "rate"))} | {ReportView.Percent(ReportView.Number(t, "accuracyOnnx"))} | ");
                md.Append(C, $"{ReportView.Count(ReportView.Number(t, "bytes"))} | {ReportView.Ratio(ReportView.Number(t, "speedup"))} | ");
                md.Append(ReportView.At(t, "passed") is { ValueKind: JsonValueKind.True } ? "passed" : Cell("failed: " + (ReportView.Text(t, "reason") ?? "")));
                md.Append(" |\n");
            }
            md.Append('\n');
        }
        md.Append(C, $"Engine {Cell(v.Text("engineVersion") ?? "?")}, seed {ReportView.Count(v.Number("seed"))}");
        if (htmlFileName is not null) md.Append(C, $"; full report: `{Cell(htmlFileName)}`");
        md.Append(".\n");
        return md.ToString();
    }

    /// <summary>Text safe inside a table cell: no pipes or line breaks, no HTML.</summary>
    private static string Cell(string text) =>
        text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("|", "\\|", StringComparison.Ordinal)
            .Replace("<", "&lt;", StringComparison.Ordinal).Replace("\r", " ", StringComparison.Ordinal).Replace("\n", " ", StringComparison.Ordinal);
}

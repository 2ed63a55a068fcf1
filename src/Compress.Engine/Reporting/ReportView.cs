using System.Globalization;
using System.Text.Json;

namespace Compress.Engine.Reporting;

/// <summary>
/// Reads a build report (the JSON of <c>&lt;name&gt;.report.json</c>) for the HTML and Markdown renderers: tolerant of
/// missing sections (older reports, other methods) and of <c>"NaN"</c>/<c>"Infinity"</c> written as strings. Both
/// renderers read the JSON, not the engine's types, so <c>compress report FILE.report.json</c> renders exactly what a
/// build renders.
/// </summary>
internal sealed class ReportView(JsonElement root)
{
    private static readonly CultureInfo C = CultureInfo.InvariantCulture;

    public JsonElement Root { get; } = root;

    /// <summary>The element at a dotted path, or null when any part is missing or null.</summary>
    public JsonElement? At(string path) => At(Root, path);

    public static JsonElement? At(JsonElement element, string path)
    {
        var current = element;
        foreach (string part in path.Split('.'))
        {
            if (current.ValueKind != JsonValueKind.Object || !current.TryGetProperty(part, out var next) || next.ValueKind == JsonValueKind.Null)
                return null;
            current = next;
        }
        return current;
    }

    public double? Number(string path) => Number(At(path));

    public static double? Number(JsonElement? e) => e switch
    {
        { ValueKind: JsonValueKind.Number } n => n.GetDouble(),
        { ValueKind: JsonValueKind.String } s when double.TryParse(s.GetString(), NumberStyles.Float, C, out double v) => v,
        { ValueKind: JsonValueKind.String } s when s.GetString() is "Infinity" => double.PositiveInfinity,
        { ValueKind: JsonValueKind.String } s when s.GetString() is "-Infinity" => double.NegativeInfinity,
        { ValueKind: JsonValueKind.String } s when s.GetString() is "NaN" => double.NaN,
        _ => null,
    };

    public string? Text(string path) => At(path) is { ValueKind: JsonValueKind.String } s ? s.GetString() : null;

    public bool? Bool(string path) => At(path) is { } e && e.ValueKind is JsonValueKind.True or JsonValueKind.False ? e.GetBoolean() : null;

    public IReadOnlyList<JsonElement> Array(string path) =>
        At(path) is { ValueKind: JsonValueKind.Array } a ? [.. a.EnumerateArray()] : [];

    public static IReadOnlyList<double> Numbers(JsonElement? array) =>
        array is { ValueKind: JsonValueKind.Array } a ? [.. a.EnumerateArray().Select(e => Number(e) ?? double.NaN)] : [];

    public static string? Text(JsonElement e, string property) =>
        At(e, property) is { ValueKind: JsonValueKind.String } s ? s.GetString() : null;

    public static double? Number(JsonElement e, string property) => Number(At(e, property));

    public string Name => Text("name") ?? "model";
    public bool Passed => Bool("gate.passed") ?? false;

    // Formatting shared by both renderers.
    public static string Percent(double? v) => v is double d ? d.ToString("F2", C) + "%" : "–";
    public static string Count(double? v) => v is double d && double.IsFinite(d) ? d.ToString("N0", C) : "–";
    public static string Ratio(double? v) => v is double d ? (double.IsPositiveInfinity(d) ? "∞" : d.ToString("F2", C) + "x") : "–";
    public static string Fixed(double? v, string format = "0.####") => v is double d ? d.ToString(format, C) : "–";
    public static string Ms(double? v) => v is double d ? d.ToString("F3", C) + " ms" : "–";

    /// <summary>before / after, or null when either is missing or after is 0.</summary>
    public static double? Divide(double? before, double? after) => before is double b && after is double a && a != 0 ? b / a : null;

    /// <summary>The verdict line: passed, or failed with the reason.</summary>
    public string Verdict => Passed ? "passed" : "failed: " + (Text("gate.reason") ?? "the gate failed");

    /// <summary>The gate's conditions, as "minAccuracy 90%" etc.</summary>
    public IReadOnlyList<string> GateConditions()
    {
        var list = new List<string>();
        if (Number("gate.minAccuracy") is double min) list.Add(string.Create(C, $"minAccuracy {min}%"));
        if (Number("gate.maxAccuracyDrop") is double drop) list.Add(string.Create(C, $"maxAccuracyDrop {drop} points"));
        if (Number("gate.maxRelativeAccuracyDrop") is double rel) list.Add(string.Create(C, $"maxRelativeAccuracyDrop {rel}%"));
        if (Number("gate.maxBytes") is double bytes) list.Add(string.Create(C, $"maxBytes {bytes:N0}"));
        if (Number("gate.minSpeedup") is double speed) list.Add(string.Create(C, $"minSpeedup {speed}x"));
        return list;
    }

    /// <summary>The before/after rows: metric, unpruned, artifact, change (as before / after where that reads naturally).</summary>
    public IReadOnlyList<(string Metric, string Before, string After, string Change)> BeforeAfter()
    {
        var rows = new List<(string, string, string, string)>();
        double? accBefore = Number("accuracy.unpruned"), accAfter = Number("accuracy.onnx");
        rows.Add(("top-1 accuracy (ONNX Runtime for the artifact)", Percent(accBefore), Percent(accAfter),
            accBefore is double b && accAfter is double a ? (a - b).ToString("+0.00;-0.00;0.00", C) + " points" : "–"));
        void Add(string metric, string before, string after, Func<double?, string> format, string ratioWord = "smaller")
        {
            double? x = Number("structure." + before), y = Number("structure." + after);
            if (x is null && y is null) return;
            double? r = Divide(x, y);
            rows.Add((metric, format(x), format(y), r is double d ? Ratio(d) + " " + ratioWord : "–"));
        }
        Add("file size (bytes)", "bytesBefore", "bytesAfter", Count);
        Add("gzip size (bytes)", "gzipBytesBefore", "gzipBytesAfter", Count);
        Add("parameters", "parametersBefore", "parametersAfter", Count, "fewer");
        Add("nonzero parameters", "nonzerosBefore", "nonzerosAfter", Count, "fewer");
        Add("MACs per image", "macsBefore", "macsAfter", Count, "fewer");
        Add("latency, batch 1 median", "latencyBeforeMs", "latencyAfterMs", Ms, "faster");
        return rows;
    }
}

using System.Text.Json;
using Compress.Engine.Diagnostics;
using Compress.Engine.Reporting;

namespace Compress.Engine.Spec;

/// <summary>
/// Writes a build report three ways next to each other: <c>&lt;name&gt;.report.json</c> (the data, every path relative to
/// the project), <c>&lt;name&gt;.report.html</c> (<see cref="HtmlReport"/>) and <c>&lt;name&gt;.report.md</c>
/// (<see cref="MarkdownReport"/>), each through a temporary file. The HTML and Markdown are rendered from the JSON as
/// written, so <c>compress report</c> (<see cref="Render"/>) gives the same files from the JSON alone.
/// </summary>
public static class BuildReportFiles
{
    /// <summary>The three files written.</summary>
    public sealed record Written(string Json, string Html, string Markdown);

    /// <summary>Writes <paramref name="report"/> to <paramref name="jsonPath"/> with paths relative to <paramref name="projectDirectory"/>, then the HTML and Markdown beside it.</summary>
    public static Written Write(string jsonPath, BuildReport report, string projectDirectory)
    {
        ArgumentNullException.ThrowIfNull(report);
        var relative = Relative(report, Path.GetFullPath(projectDirectory));
        string json = JsonOutput.Serialize(relative) + "\n";
        AtomicFile.WriteAllText(jsonPath, json);
        using var document = JsonDocument.Parse(json);
        return WriteViews(jsonPath, document.RootElement);
    }

    /// <summary>
    /// <c>compress report FILE.report.json</c>: renders the HTML and Markdown again from a report file (into
    /// <paramref name="outputDirectory"/>, default the report's folder). CMP0625 when the file is missing, not JSON, or not a build report.
    /// </summary>
    public static Written Render(string jsonPath, string? outputDirectory = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(jsonPath);
        string full = Path.GetFullPath(jsonPath);
        if (!File.Exists(full))
            throw new CompressException(DiagnosticCode.InvalidReportFile, $"The report file '{full}' does not exist.", full,
                "Give the <name>.report.json a build wrote (next to its ONNX file).");
        JsonDocument document;
        byte[] bytes = File.ReadAllBytes(full);
        Utf8Input.Check(bytes, DiagnosticCode.InvalidReportFile, full, "report file");
        try
        {
            document = JsonDocument.Parse(bytes, new JsonDocumentOptions { AllowTrailingCommas = true });
        }
        catch (JsonException e)
        {
            throw new CompressException(DiagnosticCode.InvalidReportFile, $"The report file is not valid JSON: {e.Message}", full,
                "Give the <name>.report.json a build wrote; rebuild the model if the file was damaged.") { Line = (int?)e.LineNumber + 1, Column = (int?)e.BytePositionInLine + 1 };
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("name", out var name) || name.ValueKind != JsonValueKind.String
                || !root.TryGetProperty("accuracy", out _) || !root.TryGetProperty("gate", out _))
                throw new CompressException(DiagnosticCode.InvalidReportFile, "The file is JSON but not a build report (it needs name, accuracy and gate).", full,
                    "Give the <name>.report.json a build wrote, not another JSON file (a result.json of compress run has no gate).");
            string target = outputDirectory is null ? full : Path.Combine(Path.GetFullPath(outputDirectory), Path.GetFileName(full));
            return WriteViews(target, root);
        }
    }

    private static Written WriteViews(string jsonPath, JsonElement root)
    {
        string stem = jsonPath.EndsWith(".report.json", StringComparison.OrdinalIgnoreCase) ? jsonPath[..^".report.json".Length]
            : Path.ChangeExtension(jsonPath, null);
        string html = stem + ".report.html", markdown = stem + ".report.md";
        AtomicFile.WriteAllText(html, HtmlReport.Render(root, PlotLinks(root)));
        AtomicFile.WriteAllText(markdown, MarkdownReport.Render(root, Path.GetFileName(html)));
        return new Written(jsonPath, html, markdown);
    }

    /// <summary>The plots' paths (relative to the project) as links relative to the output folder, where the HTML is.</summary>
    private static List<string> PlotLinks(JsonElement root)
    {
        string output = root.TryGetProperty("options", out var o) && o.ValueKind == JsonValueKind.Object
            && o.TryGetProperty("outputDirectory", out var d) && d.ValueKind == JsonValueKind.String ? d.GetString()! : ".";
        if (!root.TryGetProperty("plots", out var plots) || plots.ValueKind != JsonValueKind.Array) return [];
        // Both paths are relative to the project: resolve them under one stand-in root.
        string stand = Path.Combine(Path.GetTempPath(), "project");
        return [.. plots.EnumerateArray().Where(p => p.ValueKind == JsonValueKind.String)
            .Select(p => Path.GetRelativePath(Path.GetFullPath(Path.Combine(stand, output)), Path.GetFullPath(Path.Combine(stand, p.GetString()!))).Replace('\\', '/'))];
    }

    /// <summary>The report with every path relative to <paramref name="project"/> (forward slashes), so it holds no machine paths.</summary>
    internal static BuildReport Relative(BuildReport report, string project)
    {
        string Rel(string path) => Path.IsPathFullyQualified(path) ? Path.GetRelativePath(project, path).Replace('\\', '/') : path;
        string? RelOrNull(string? path) => path is null ? null : Rel(path);
        var spec = report.Options;
        var model = spec.Model.IsOnnx ? spec.Model with { Architecture = Rel(spec.Model.Architecture) } : spec.Model;
        spec = spec with
        {
            SpecPath = Rel(spec.SpecPath),
            Model = model,
            Weights = RelOrNull(spec.Weights),
            Data = spec.Data.Equals("synthetic", StringComparison.OrdinalIgnoreCase) ? spec.Data : Rel(spec.Data),
            OutputDirectory = Rel(spec.OutputDirectory),
            IntermediateDirectory = Rel(spec.IntermediateDirectory),
            CacheDirectory = Rel(spec.CacheDirectory),
            SparsityFile = RelOrNull(spec.SparsityFile),
        };
        return report with
        {
            Options = spec,
            Model = spec.Model.Architecture,
            Onnx = Rel(report.Onnx),
            Plots = [.. report.Plots.Select(Rel)],
            Import = report.Import is null ? null : report.Import with { File = Rel(report.Import.File) },
        };
    }
}

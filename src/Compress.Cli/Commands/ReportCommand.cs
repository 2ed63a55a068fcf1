using System.CommandLine;
using Compress.Engine.Spec;

namespace Compress.Cli.Commands;

/// <summary>
/// <c>compress report FILE.report.json [--output-dir DIR]</c>: renders <c>&lt;name&gt;.report.html</c> and
/// <c>&lt;name&gt;.report.md</c> again from a build report (after an engine update, or from a report a CI job kept).
/// Loads neither TorchSharp nor ONNX Runtime.
/// </summary>
internal static class ReportCommand
{
    public static Command Create(CliContext context)
    {
        var file = new Argument<string>("report") { Description = "A <name>.report.json written by a build (compress run --spec)." };
        var output = new Option<string?>("--output-dir", "-o") { Description = "Where to write the HTML and Markdown (default: beside the JSON)." };
        var command = new Command("report", "Render the HTML and Markdown reports again from a <name>.report.json.");
        command.Add(file);
        command.Add(output);
        command.SetAction(r =>
        {
            string json = r.GetValue(file)!;
            string folder = r.GetValue(output) ?? Path.GetDirectoryName(Path.GetFullPath(json)) ?? ".";
            // The HTML and the Markdown replace the earlier pair together, or not at all.
            var written = Compress.Engine.Reporting.OutputTransaction.Run([Path.Combine(folder, "report")], context.Sink,
                () => BuildReportFiles.Render(json, r.GetValue(output)));
            context.Out.WriteLine($"wrote {written.Html} and {written.Markdown}");
            return 0;
        });
        return command;
    }
}

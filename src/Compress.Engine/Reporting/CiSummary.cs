using Compress.Engine.Diagnostics;

namespace Compress.Engine.Reporting;

/// <summary>
/// Shows a Markdown report on the CI system's run page: appended to the file <c>GITHUB_STEP_SUMMARY</c> names (GitHub
/// Actions' job summary), and on Azure Pipelines (<c>TF_BUILD</c> set) uploaded with the
/// <c>##vso[task.uploadsummary]</c> logging command. Neither set: nothing happens. A summary that cannot be written is
/// a warning, never a failed build.
/// </summary>
public static class CiSummary
{
    /// <summary>Publishes <paramref name="markdownPath"/> where the environment asks for it.</summary>
    public static void Publish(string markdownPath, IDiagnosticSink sink, Func<string, string?>? environment = null)
    {
        ArgumentNullException.ThrowIfNull(markdownPath);
        ArgumentNullException.ThrowIfNull(sink);
        environment ??= Environment.GetEnvironmentVariable;
        string full = Path.GetFullPath(markdownPath);
        if (environment("GITHUB_STEP_SUMMARY") is { Length: > 0 } summary)
        {
            try
            {
                File.AppendAllText(summary, File.ReadAllText(full) + "\n");
                sink.Progress($"report: appended {Path.GetFileName(full)} to the GitHub job summary");
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
            {
                sink.Report(Diagnostic.Warning(DiagnosticCode.OutputWriteFailed,
                    $"The Markdown report could not be appended to GITHUB_STEP_SUMMARY: {e.Message}", summary,
                    "Check that GITHUB_STEP_SUMMARY names a writable file (GitHub Actions sets it for each step)."));
            }
        }
        // Azure Pipelines reads logging commands from the output (the build step logs this line at high importance).
        if (!string.IsNullOrEmpty(environment("TF_BUILD")))
            sink.Progress("##vso[task.uploadsummary]" + full);
    }
}

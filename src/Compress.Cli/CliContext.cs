using Compress.Engine.Diagnostics;
using Compress.Engine.Reporting;

namespace Compress.Cli;

/// <summary>Where a command writes results, diagnostics and progress, and its cancellation token.</summary>
internal sealed record CliContext(TextWriter Out, IDiagnosticSink Sink, CancellationToken Cancellation)
{
    /// <summary>Writes <paramref name="value"/> as one JSON object on stdout.</summary>
    public void WriteJson<T>(T value) => Out.WriteLine(JsonOutput.Serialize(value));
}

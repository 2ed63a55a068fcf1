namespace Compress.Engine.Diagnostics;

/// <summary>Keeps every diagnostic and progress line in memory (tests, reports).</summary>
public sealed class CollectingSink : IDiagnosticSink
{
    private readonly object _gate = new();
    private readonly List<Diagnostic> _diagnostics = [];
    private readonly List<string> _progress = [];

    public IReadOnlyList<Diagnostic> Diagnostics { get { lock (_gate) return [.. _diagnostics]; } }

    public IReadOnlyList<string> ProgressLines { get { lock (_gate) return [.. _progress]; } }

    public void Report(Diagnostic diagnostic) { lock (_gate) _diagnostics.Add(diagnostic); }

    public void Progress(string message) { lock (_gate) _progress.Add(message); }
}

namespace Compress.Engine.Diagnostics;

/// <summary>Ready-made sinks.</summary>
public static class DiagnosticSinks
{
    /// <summary>Discards everything.</summary>
    public static IDiagnosticSink None { get; } = new NullSink();

    /// <summary>Writes diagnostics and progress to standard error.</summary>
    public static IDiagnosticSink StandardError { get; } = new TextWriterSink(Console.Error);

    private sealed class NullSink : IDiagnosticSink
    {
        public void Report(Diagnostic diagnostic) { }
        public void Progress(string message) { }
    }
}

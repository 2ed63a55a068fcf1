namespace Compress.Engine.Diagnostics;

/// <summary>Writes diagnostics and progress lines to a text writer (stderr in the CLI).</summary>
public sealed class TextWriterSink(TextWriter writer) : IDiagnosticSink
{
    private readonly object _gate = new();

    public void Report(Diagnostic diagnostic)
    {
        lock (_gate) writer.WriteLine(diagnostic.Format());
    }

    public void Progress(string message)
    {
        lock (_gate) writer.WriteLine(Diagnostic.OneLine(message));
    }
}

namespace Compress.Engine.Diagnostics;

/// <summary>Receives warnings (and progress) from long-running engine work; the CLI prints them to stderr.</summary>
public interface IDiagnosticSink
{
    /// <summary>Reports a warning or a non-fatal error.</summary>
    void Report(Diagnostic diagnostic);

    /// <summary>Reports progress of long work (phase, epoch, batch, images/s, ETA); a single human-readable line.</summary>
    void Progress(string message);
}

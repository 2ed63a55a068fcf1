using System.Diagnostics;
using System.Globalization;

namespace Compress.Engine.Diagnostics;

/// <summary>
/// Passes everything to an inner sink and, whenever no progress line has gone out for <c>interval</c>, writes a
/// heartbeat line that repeats the last one with the elapsed time ("still: …"). Long steps without loops of their own
/// (ONNX export and verification, ONNX Runtime session creation, a slow first epoch step) then still show life in a
/// CI log; the build task turns some of these lines into visible messages.
/// </summary>
public sealed class HeartbeatSink : IDiagnosticSink, IDisposable
{
    private readonly IDiagnosticSink _inner;
    private readonly TimeSpan _interval;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly object _gate = new();
    private readonly Timer _timer;
    private TimeSpan _lastLine;
    private string _lastMessage = "starting";

    /// <summary>Starts the timer; <paramref name="interval"/> must be positive.</summary>
    public HeartbeatSink(IDiagnosticSink inner, TimeSpan interval)
    {
        ArgumentNullException.ThrowIfNull(inner);
        if (interval <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(interval), interval, "The heartbeat interval must be positive.");
        _inner = inner;
        _interval = interval;
        var tick = TimeSpan.FromMilliseconds(Math.Max(100, interval.TotalMilliseconds / 4));
        _timer = new Timer(_ => Beat(), null, tick, tick);
    }

    /// <inheritdoc />
    public void Report(Diagnostic diagnostic)
    {
        lock (_gate)
        {
            _lastLine = _clock.Elapsed;
            _inner.Report(diagnostic);
        }
    }

    /// <inheritdoc />
    public void Progress(string message)
    {
        lock (_gate)
        {
            _lastLine = _clock.Elapsed;
            if (!message.StartsWith("still: ", StringComparison.Ordinal)) _lastMessage = message;
            _inner.Progress(message);
        }
    }

    private void Beat()
    {
        lock (_gate)
        {
            var now = _clock.Elapsed;
            if (now - _lastLine < _interval) return;
            _lastLine = now;
            _inner.Progress(string.Create(CultureInfo.InvariantCulture, $"still: {_lastMessage} (run time {now:mm\\:ss})"));
        }
    }

    /// <summary>Stops the timer; no heartbeat follows.</summary>
    public void Dispose()
    {
        using var done = new ManualResetEvent(false);
        if (_timer.Dispose(done)) done.WaitOne();
    }
}

using System.Diagnostics;
using System.Globalization;
using Compress.Engine.Diagnostics;

namespace Compress.Engine.Training;

/// <summary>
/// Throttled progress lines for long loops: at most one every <see cref="Interval"/>, plus the last step, with
/// images/s and ETA. Lines go to <see cref="IDiagnosticSink.Progress"/> (stderr in the CLI).
/// </summary>
internal sealed class ProgressMeter(IDiagnosticSink sink, string phase, int totalSteps)
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private TimeSpan _lastReport = TimeSpan.Zero;
    private long _images;

    public static TimeSpan Interval { get; } = TimeSpan.FromSeconds(2);

    public double ImagesPerSecond => _images / Math.Max(_clock.Elapsed.TotalSeconds, 1e-9);

    public double Seconds => _clock.Elapsed.TotalSeconds;

    public void Step(int step, int images, string? detail = null)
    {
        _images += images;
        var now = _clock.Elapsed;
        if (step != totalSteps && now - _lastReport < Interval) return;
        _lastReport = now;
        double perStep = now.TotalSeconds / Math.Max(step, 1);
        var eta = TimeSpan.FromSeconds(perStep * (totalSteps - step));
        sink.Progress(string.Create(CultureInfo.InvariantCulture,
            $"{phase} [{step}/{totalSteps}] {detail}{(detail is null ? "" : " ")}{ImagesPerSecond:F0} img/s ETA {eta:mm\\:ss}"));
    }
}

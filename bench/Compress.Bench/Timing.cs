using System.Diagnostics;

namespace Compress.Bench;

/// <summary>Wall-clock sampling and percentiles shared by the latency benchmarks.</summary>
internal static class Timing
{
    /// <summary>Runs <paramref name="action"/> <paramref name="count"/> times, adding each duration in ms to <paramref name="into"/>.</summary>
    public static void Time(Action action, int count, List<double> into)
    {
        for (int i = 0; i < count; i++)
        {
            long start = Stopwatch.GetTimestamp();
            action();
            into.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
        }
    }

    /// <summary>Nearest-rank percentile (p in 0..100).</summary>
    public static double Percentile(List<double> values, double p)
    {
        var sorted = values.Order().ToList();
        int rank = (int)Math.Ceiling(p / 100 * sorted.Count);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Count - 1)];
    }

    /// <summary>The median (the mean of the two middle values for an even count).</summary>
    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        int n = sorted.Count;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }
}

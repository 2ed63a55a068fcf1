using System.Globalization;

namespace Compress.Engine.Benchmark;

/// <summary>
/// Latency percentiles in milliseconds. Percentiles use the nearest-rank definition: the p-th percentile of n sorted
/// samples is the sample at 1-based rank <c>ceil(p / 100 * n)</c>, so it is always a measured value (no
/// interpolation) and for the samples 1..100 p50, p90 and p99 are 50, 90 and 99.
/// </summary>
/// <param name="P50">Median.</param>
/// <param name="P90">90th percentile.</param>
/// <param name="P99">99th percentile.</param>
public sealed record LatencyStats(double P50, double P90, double P99)
{
    /// <summary>The percentiles of <paramref name="samples"/> (any order; not modified).</summary>
    public static LatencyStats FromSamples(IReadOnlyCollection<double> samples)
    {
        ArgumentNullException.ThrowIfNull(samples);
        if (samples.Count == 0) throw new ArgumentException("At least one sample is needed.", nameof(samples));
        var sorted = samples.ToArray();
        Array.Sort(sorted);
        return new LatencyStats(Percentile(sorted, 50), Percentile(sorted, 90), Percentile(sorted, 99)) { Runs = sorted.Length };
    }

    /// <summary>How many samples the percentiles come from (0 when not recorded).</summary>
    public int Runs { get; init; }

    /// <summary>Nearest-rank percentile <paramref name="p"/> (0..100] of ascending <paramref name="sorted"/>.</summary>
    public static double Percentile(ReadOnlySpan<double> sorted, double p)
    {
        if (sorted.IsEmpty) throw new ArgumentException("At least one sample is needed.", nameof(sorted));
        if (!(p > 0 && p <= 100))
            throw new ArgumentOutOfRangeException(nameof(p), p, "Percentile must lie in (0, 100].");
        // The tiny tolerance keeps e.g. 0.9 * 100 = 90.00000000000001 at rank 90, not 91.
        int rank = (int)Math.Ceiling((p / 100 * sorted.Length) - 1e-9);
        return sorted[Math.Clamp(rank, 1, sorted.Length) - 1];
    }

    /// <inheritdoc />
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"p50 {P50:F3} ms, p90 {P90:F3} ms, p99 {P99:F3} ms");
}

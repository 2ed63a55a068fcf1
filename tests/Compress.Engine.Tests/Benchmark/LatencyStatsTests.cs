using Compress.Engine.Benchmark;

namespace Compress.Engine.Tests.Benchmark;

public class LatencyStatsTests
{
    [Fact]
    public void FromSamples_OneToHundredShuffled_NearestRankPercentiles()
    {
        var samples = Enumerable.Range(1, 100).Select(i => (double)i).ToArray();
        new Random(3).Shuffle(samples);
        var stats = LatencyStats.FromSamples(samples);
        // Nearest rank: the value at rank ceil(p/100 * n) of the sorted samples.
        Assert.Equal(50, stats.P50);
        Assert.Equal(90, stats.P90);
        Assert.Equal(99, stats.P99);
    }

    [Fact]
    public void Percentile_TenSamples_RanksRoundUp()
    {
        double[] sorted = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
        Assert.Equal(5, LatencyStats.Percentile(sorted, 50));   // rank ceil(5) = 5
        Assert.Equal(9, LatencyStats.Percentile(sorted, 90));   // rank ceil(9) = 9
        Assert.Equal(10, LatencyStats.Percentile(sorted, 99));  // rank ceil(9.9) = 10
        Assert.Equal(1, LatencyStats.Percentile(sorted, 1));    // rank ceil(0.1) = 1
    }

    [Fact]
    public void FromSamples_OneSample_AllPercentilesAreIt()
    {
        var stats = LatencyStats.FromSamples([2.5]);
        Assert.Equal(new LatencyStats(2.5, 2.5, 2.5) { Runs = 1 }, stats);
    }

    [Fact]
    public void FromSamples_Empty_Throws() =>
        Assert.Throws<ArgumentException>(() => LatencyStats.FromSamples(Array.Empty<double>()));
}

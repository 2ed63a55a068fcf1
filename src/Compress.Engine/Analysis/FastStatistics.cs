namespace Compress.Engine.Analysis;

/// <summary>The CPU fast path of <see cref="ParameterStatistics"/> (see <see cref="MagnitudeScan"/>).</summary>
internal static class FastStatistics
{
    public static ParameterStatistics Compute(TrainableParameters parameters, long[] prunedCounts)
    {
        using var scan = MagnitudeScan.Run(parameters, sumSquares: true);
        long n = parameters.Count;
        var counts = scan.Counts;
        var squares = scan.SumSquares!;
        var prefix = scan.PrefixCounts();
        // suffix[b] = Σ w² over buckets b and above, summed from the largest values down.
        var suffix = new double[MagnitudeScan.BucketCount + 1];
        for (int b = MagnitudeScan.BucketCount - 1; b >= 0; b--) suffix[b] = suffix[b + 1] + squares[b];
        double total = suffix[0];

        var located = new (int Bucket, long Rank)[prunedCounts.Length];
        var boundaries = new SortedSet<int>();
        for (int i = 0; i < prunedCounts.Length; i++)
        {
            long k = prunedCounts[i];
            if (k <= 0 || k >= n) continue;
            located[i] = MagnitudeScan.Locate(k, prefix);
            // A bucket pruned entirely needs no resolution.
            if (located[i].Rank < counts[located[i].Bucket]) boundaries.Add(located[i].Bucket);
        }
        var elements = scan.Collect([.. boundaries], centralMoments: true);
        var kept = new double[prunedCounts.Length];
        for (int i = 0; i < prunedCounts.Length; i++)
        {
            long k = prunedCounts[i];
            if (k <= 0) { kept[i] = total; continue; }
            if (k >= n) { kept[i] = 0; continue; }
            var (bucket, rank) = located[i];
            long rest = counts[bucket] - rank;
            kept[i] = suffix[bucket + 1] + (rest > 0 ? elements.LargestSumSquares(bucket, rest) : 0);
        }
        return new ParameterStatistics(kept, total, elements.CentralSum2, elements.CentralSum4);
    }
}

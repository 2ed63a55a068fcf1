namespace Compress.Engine.Benchmark;

/// <summary>How the candidate compares with the baseline (values above 1 favour the candidate, except size).</summary>
/// <param name="Speedup">
/// The median over timed rounds of baseline time / candidate time at batch 1 (the two ran back to back in each round,
/// in alternating order), which cancels load that changes between rounds; <see cref="OrtBenchmark.Compare"/> alone
/// gives baseline p50 / candidate p50.
/// </param>
/// <param name="Throughput">Candidate / baseline throughput at each batch size.</param>
/// <param name="Size">Baseline file bytes / candidate file bytes (2 = the candidate file is half the size).</param>
/// <param name="Parameters">Baseline parameters / candidate parameters.</param>
/// <param name="AccuracyDifference">Candidate minus baseline accuracy in percentage points; null without accuracy.</param>
public sealed record OrtBenchmarkRatio(double Speedup, IReadOnlyDictionary<int, double> Throughput, double Size,
    double Parameters, double? AccuracyDifference);

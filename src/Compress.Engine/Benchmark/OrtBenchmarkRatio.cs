namespace Compress.Engine.Benchmark;

/// <summary>How the candidate compares with the baseline (values above 1 favour the candidate, except size).</summary>
/// <param name="Speedup">Baseline p50 latency / candidate p50 latency.</param>
/// <param name="Throughput">Candidate / baseline throughput at each batch size.</param>
/// <param name="Size">Baseline file bytes / candidate file bytes (2 = the candidate file is half the size).</param>
/// <param name="Parameters">Baseline parameters / candidate parameters.</param>
/// <param name="AccuracyDifference">Candidate minus baseline accuracy in percentage points; null without accuracy.</param>
public sealed record OrtBenchmarkRatio(double Speedup, IReadOnlyDictionary<int, double> Throughput, double Size,
    double Parameters, double? AccuracyDifference);

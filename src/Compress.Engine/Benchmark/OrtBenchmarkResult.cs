namespace Compress.Engine.Benchmark;

/// <summary>
/// The result of <see cref="OrtBenchmark.Run"/>: the candidate's measurement at the top level (the shape of
/// <c>compress bench --json</c>), plus the baseline's and the ratios when a baseline was given.
/// </summary>
public sealed record OrtBenchmarkResult
{
    /// <summary>Full path of the candidate model.</summary>
    public required string Model { get; init; }

    /// <summary>Candidate latency percentiles at batch 1, milliseconds.</summary>
    public required LatencyStats LatencyMs { get; init; }

    /// <summary>Candidate images per second by batch size.</summary>
    public required IReadOnlyDictionary<int, double> Throughput { get; init; }

    /// <summary>Candidate top-1 accuracy in percent; null when not measured.</summary>
    public double? Accuracy { get; init; }

    /// <summary>Candidate file size in bytes.</summary>
    public long FileBytes { get; init; }

    /// <summary>Candidate parameter count (sum of initializer sizes).</summary>
    public long Parameters { get; init; }

    /// <summary>Candidate MACs per image; null when unknown.</summary>
    public long? Macs { get; init; }

    /// <summary>Execution provider used: <c>cpu</c> or <c>cuda</c>.</summary>
    public required string Device { get; init; }

    /// <summary>Intra-op threads (0 = ONNX Runtime's choice).</summary>
    public int Threads { get; init; }

    /// <summary>Graph optimisation level.</summary>
    public required string Optimization { get; init; }

    /// <summary>The baseline's measurement; null without <c>--baseline</c>.</summary>
    public OrtModelMeasurement? Baseline { get; init; }

    /// <summary>Baseline-vs-candidate ratios; null without <c>--baseline</c>.</summary>
    public OrtBenchmarkRatio? Ratio { get; init; }

    /// <summary>The candidate's measurement as a record of the same shape as <see cref="Baseline"/>.</summary>
    public OrtModelMeasurement Candidate() => new(Model, LatencyMs, Throughput, Accuracy, FileBytes, Parameters, Macs,
        Device, Threads, Optimization);
}

using Compress.Engine.Pipeline;

namespace Compress.Engine.Benchmark;

/// <summary>What <see cref="OrtBenchmark.Run"/> measures and how.</summary>
public sealed record OrtBenchmarkOptions
{
    /// <summary>The ONNX model to benchmark (the candidate). Required.</summary>
    public required string Model { get; init; }

    /// <summary>An optional second model measured in the same run, alternating with <see cref="Model"/>. Default null.</summary>
    public string? Baseline { get; init; }

    /// <summary>Data for the accuracy measurement (test split), with its normalisation: <see cref="DataOptions.Normalize"/>
    /// when set, else the artifact's recorded contract, else the training split's statistics. Default synthetic.</summary>
    public DataOptions Data { get; init; } = new();

    /// <summary>Whether to measure accuracy at all (loads the data). Default true.</summary>
    public bool MeasureAccuracy { get; init; } = true;

    /// <summary>Session settings (device, threads, optimisation), shared by both models. Default <see cref="OrtSessionSettings"/>.</summary>
    public OrtSessionSettings Session { get; init; } = new();

    /// <summary>
    /// Batch sizes whose throughput is measured. Default 1 and 32. Latency percentiles always come from batch 1, which
    /// is measured even when not listed.
    /// </summary>
    public IReadOnlyList<int> BatchSizes { get; init; } = [1, 32];

    /// <summary>Untimed runs per model and batch size before timing, so caches, allocators and threads settle. Default 10.</summary>
    public int Warmup { get; init; } = 10;

    /// <summary>
    /// Timed runs per model at batch 1. Default 100. Batch b gets <c>min(Runs, max(3, ceil(4 * Runs / b)))</c> runs,
    /// so the large batches take a time comparable to batch 1 rather than b times longer.
    /// </summary>
    public int Runs { get; init; } = 100;

    /// <summary>
    /// When set, the number of timed batch-1 runs is chosen from the warm-up's pace so that timing takes about this many
    /// seconds, at least <see cref="Runs"/> and at most 20 x <see cref="Runs"/>: small models get many runs (a stable
    /// median), large ones a bounded time. Default null (exactly <see cref="Runs"/>).
    /// </summary>
    public double? Seconds { get; init; }

    /// <summary>Timed runs of batch size <paramref name="batchSize"/> (see <see cref="Runs"/>).</summary>
    public int RunsFor(int batchSize) =>
        Math.Min(Runs, Math.Max(3, (int)Math.Ceiling(4.0 * Runs / Math.Max(1, batchSize))));
}

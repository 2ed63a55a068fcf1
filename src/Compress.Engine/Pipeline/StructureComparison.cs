using Compress.Engine.Benchmark;

namespace Compress.Engine.Pipeline;

/// <summary>
/// The unpruned model against the pruned one, both as BatchNorm-folded ONNX in ONNX Runtime: MACs and parameters as
/// the ONNX profile counts them, and batch-1 latency timed alternately (one run of each in turn, so both see the same
/// machine load).
/// </summary>
/// <param name="MacsBefore">MACs per image of the unpruned model (null when the ONNX profile cannot count them).</param>
/// <param name="MacsAfter">MACs per image of the pruned model (likewise).</param>
/// <param name="ParametersBefore">Parameters of the unpruned model.</param>
/// <param name="ParametersAfter">Parameters of the pruned model.</param>
/// <param name="LatencyBefore">Batch-1 latency of the unpruned model, ms.</param>
/// <param name="LatencyAfter">Batch-1 latency of the pruned model, ms.</param>
/// <param name="Threads">ONNX Runtime intra-op threads (0: its own choice).</param>
/// <param name="Runs">Timed runs per model.</param>
public sealed record StructureComparison(long? MacsBefore, long? MacsAfter, long ParametersBefore, long ParametersAfter,
    LatencyStats LatencyBefore, LatencyStats LatencyAfter, int Threads, int Runs)
{
    /// <summary>MACs before / after.</summary>
    public double? MacsRatio => MacsBefore is long before && MacsAfter is long after && after > 0 ? (double)before / after : null;

    /// <summary>Median latency before / after.</summary>
    public double Speedup => LatencyAfter.P50 > 0 ? LatencyBefore.P50 / LatencyAfter.P50 : double.PositiveInfinity;
}

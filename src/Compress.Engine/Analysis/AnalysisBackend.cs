namespace Compress.Engine.Analysis;

/// <summary>
/// How <see cref="PruneAnalyzer"/> computes the curve and the kurtoses. Both give the same numbers (to about 1e-12);
/// they differ only in speed and in where the work runs.
/// </summary>
public enum AnalysisBackend
{
    /// <summary>
    /// <see cref="Fast"/> when every parameter is a float32, float16 or bfloat16 CPU tensor, otherwise
    /// <see cref="Torch"/> (CUDA parameters, float64 parameters).
    /// </summary>
    Auto,

    /// <summary>
    /// A radix histogram over the float32 bit patterns of |w|, two passes, no sort. Parameters that are not on the CPU
    /// are copied there. float64 parameters are rejected (CMP0108): their values do not fit the float32 histogram.
    /// </summary>
    Fast,

    /// <summary>
    /// libtorch operations on the parameters' device in float64: sort, cumulative sum of squares, gather at the
    /// pruned counts. The path for CUDA; on the CPU it is slower than <see cref="Fast"/> and serves as a cross-check.
    /// </summary>
    Torch,
}

using Microsoft.ML.OnnxRuntime;

namespace Compress.Engine.Benchmark;

/// <summary>
/// How an <see cref="OrtClassifier"/> opens its ONNX Runtime session. The defaults are the fastest combination measured
/// for a small CNN (the hand-built Conv-Relu-GlobalAveragePool-Gemm test model and LeNet-sized nets) at batch 1 on the
/// 2-core development machine; see <see cref="DefaultThreads"/>.
/// </summary>
public sealed record OrtSessionSettings
{
    /// <summary>
    /// Default intra-op threads: 1. Measured on the 2-core machine, 3x32x32 input, Conv(3->16,3x3)-Relu-GAP-Gemm,
    /// p50 latency at batch 1, optimisation all: see the table in <see cref="OrtSessionSettings"/>'s file header
    /// comment. One thread wins for small models because a second thread's wake-up costs more than it saves.
    /// </summary>
    public const int DefaultThreads = 1;

    /// <summary>Execution provider. Default <see cref="OrtDeviceKind.Cpu"/>.</summary>
    public OrtDeviceKind Device { get; init; } = OrtDeviceKind.Cpu;

    /// <summary>Intra-op threads; 0 lets ONNX Runtime choose (one per physical core). Default <see cref="DefaultThreads"/>.</summary>
    public int Threads { get; init; } = DefaultThreads;

    /// <summary>Graph optimisation level. Default <see cref="OrtOptimization.All"/> (fastest measured, see above).</summary>
    public OrtOptimization Optimization { get; init; } = OrtOptimization.All;

    /// <summary>The ONNX Runtime enum for <see cref="Optimization"/>.</summary>
    internal GraphOptimizationLevel GraphOptimizationLevel => Optimization switch
    {
        OrtOptimization.None => GraphOptimizationLevel.ORT_DISABLE_ALL,
        OrtOptimization.Basic => GraphOptimizationLevel.ORT_ENABLE_BASIC,
        OrtOptimization.Extended => GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
        _ => GraphOptimizationLevel.ORT_ENABLE_ALL,
    };
}

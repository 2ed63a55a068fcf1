using Microsoft.ML.OnnxRuntime;

namespace Compress.Engine.Benchmark;

// Defaults measured on the 2-core development machine (AMD EPYC, 2 vCPUs shared with other jobs), ONNX Runtime
// 1.31.1 CPU, a small CNN exported by PyTorch (Conv 3->16, 16->32, 32->64 with BatchNorm, ReLU, MaxPool, GAP, Linear;
// 2.8 M MACs per 3x32x32 image), batch 1, 3000 timed runs, `compress bench ... --batch 1 --json`, p50 latency in ms:
//
//   threads \ optimisation   none    basic   extended  all
//   1                         0.054   0.054   0.053     0.028
//   2                         0.038   0.037   0.034     0.019
//   0 (ONNX Runtime: 2 here)  0.044   0.038   0.034     0.030
//
// (first of two sweeps; the second, on a loaded machine, ranked the levels the same: all 0.022-0.029, the others
// 0.053-0.056), and five alternating repeats at optimisation all: threads 1: 0.027-0.028 ms; threads 2: 0.019 ms (0.030 once,
// while another job loaded the machine); threads 0: 0.019 ms (0.029 twice under load). So: optimisation `all`
// (the NCHWc layout transformation halves the latency) and threads 0, which ONNX Runtime resolves to one per
// physical core (2 here, tied with an explicit 2) and which keeps scaling on larger machines.

/// <summary>
/// How an <see cref="OrtClassifier"/> opens its ONNX Runtime session. The defaults (all cores, optimisation all) are
/// the fastest measured for a small CNN at batch 1 on the development machine; the numbers are in this file.
/// </summary>
public sealed record OrtSessionSettings
{
    /// <summary>
    /// Default intra-op threads: 0, ONNX Runtime's choice of one per physical core; measured fastest (tied with an
    /// explicit 2 on the 2-core machine, 0.019 ms against 0.028 ms with 1 thread; table above).
    /// </summary>
    public const int DefaultThreads = 0;

    /// <summary>Execution provider. Default <see cref="OrtDeviceKind.Cpu"/>.</summary>
    public OrtDeviceKind Device { get; init; } = OrtDeviceKind.Cpu;

    /// <summary>Intra-op threads; 0 lets ONNX Runtime choose (one per physical core). Default <see cref="DefaultThreads"/>.</summary>
    public int Threads { get; init; } = DefaultThreads;

    /// <summary>
    /// Whether the intra-op threads spin (busy-wait) for work after a run; ONNX Runtime's default is true. Off when two
    /// models are timed alternately: one session's spinning threads would take the cores the other's run needs.
    /// </summary>
    public bool AllowSpinning { get; init; } = true;

    /// <summary>Graph optimisation level. Default <see cref="OrtOptimization.All"/> (fastest measured: 0.028 ms against 0.053 ms for extended at 1 thread).</summary>
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

namespace Compress.Engine.Benchmark;

/// <summary>Everything measured for one ONNX model.</summary>
/// <param name="Model">Full path of the model file.</param>
/// <param name="LatencyMs">Latency percentiles of single-image runs, milliseconds.</param>
/// <param name="Throughput">Images per second at each batch size (total images over total timed run time).</param>
/// <param name="Accuracy">Top-1 accuracy on the test split in percent; null when not measured.</param>
/// <param name="FileBytes">Size of the model file.</param>
/// <param name="Parameters">Sum of initializer element counts.</param>
/// <param name="Macs">Multiply-accumulates per image; null when static shapes could not be propagated.</param>
/// <param name="Device">Execution provider actually used: <c>cpu</c> or <c>cuda</c>.</param>
/// <param name="Threads">Intra-op threads asked for (0 = ONNX Runtime's choice).</param>
/// <param name="Optimization">Graph optimisation level.</param>
public sealed record OrtModelMeasurement(string Model, LatencyStats LatencyMs, IReadOnlyDictionary<int, double> Throughput,
    double? Accuracy, long FileBytes, long Parameters, long? Macs, string Device, int Threads, string Optimization);

namespace Compress.Engine.Benchmark;

/// <summary>Where ONNX Runtime runs a model: the CPU execution provider, or CUDA (falls back to CPU when absent).</summary>
public enum OrtDeviceKind
{
    /// <summary>ONNX Runtime's default CPU execution provider.</summary>
    Cpu,

    /// <summary>The CUDA execution provider, appended before the CPU one (needs the GPU package, CUDA and cuDNN).</summary>
    Cuda,
}

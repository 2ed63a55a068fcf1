namespace Compress.Engine.Training;

/// <summary>The arithmetic of the training step's convolutions and linear layers.</summary>
public enum TrainingPrecision
{
    /// <summary>float32 throughout. The default.</summary>
    Float32,

    /// <summary>
    /// Mixed precision, as PyTorch's autocast does it: activations in bfloat16; every convolution and linear layer casts
    /// its float32 weights to bfloat16 for the call, so the weights, their gradients, the momentum, the pruning masks and
    /// everything saved stay float32 (master weights); BatchNorm and LayerNorm normalise in float32; the loss is float32.
    /// Needs a model the engine describes as a graph (built-in or imported). Fast only where the CPU has AVX512-BF16 or AMX (or on a
    /// GPU); elsewhere libtorch emulates bfloat16 and a step is an order of magnitude slower (docs/benchmarks.md).
    /// </summary>
    BFloat16,
}

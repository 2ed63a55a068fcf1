namespace Compress.Engine.Pruning;

/// <summary>How a prune job removes weights.</summary>
public enum PruneMethod
{
    /// <summary>The paper's global L1 magnitude pruning at one rate over all parameters (unstructured zeros).</summary>
    Global,

    /// <summary>Whole channels physically removed (smaller tensors; the ONNX model has smaller shapes and runs faster).</summary>
    Channel,

    /// <summary>Fine-grained magnitude pruning with one sparsity per layer (unstructured zeros).</summary>
    Layerwise,

    /// <summary>Unstructured pruning of the conv and linear weights by a criterion (magnitude, gradient, random) in a
    /// global or per-layer scope, one-shot or iterative (ShrinkBench's baselines).</summary>
    Unstructured,

    /// <summary>Pruning during fine-tuning with feedback (Lin et al., ICLR 2020): unstructured weights, or whole filters
    /// compacted afterwards.</summary>
    Dynamic,
}

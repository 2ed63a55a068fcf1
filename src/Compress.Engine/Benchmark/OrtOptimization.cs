namespace Compress.Engine.Benchmark;

/// <summary>ONNX Runtime graph optimisation level (<c>GraphOptimizationLevel</c>), named as on the command line.</summary>
public enum OrtOptimization
{
    /// <summary>No graph optimisation: the graph runs as exported.</summary>
    None,

    /// <summary>Constant folding and redundant-node elimination.</summary>
    Basic,

    /// <summary>Basic plus node fusions (Conv+BatchNorm, Conv+Relu, GELU ...).</summary>
    Extended,

    /// <summary>Extended plus layout optimisations (NCHWc on the CPU).</summary>
    All,
}

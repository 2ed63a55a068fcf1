namespace Compress.Engine.Models.Graph;

/// <summary>What <see cref="GraphNode.Infer"/> finds for one node at batch 1.</summary>
/// <param name="Output">Output shape for one image (no batch dimension).</param>
/// <param name="Macs">Multiply-accumulates for one image.</param>
/// <param name="Parameters">Trainable parameter elements the node owns.</param>
/// <param name="Buffers">Non-parameter state elements (BatchNorm running statistics).</param>
internal readonly record struct NodeCost(long[] Output, long Macs, long Parameters, long Buffers)
{
    /// <summary>A node that costs nothing (ReLU, pooling by max, reshapes).</summary>
    public static NodeCost Free(long[] output) => new(output, 0, 0, 0);
}

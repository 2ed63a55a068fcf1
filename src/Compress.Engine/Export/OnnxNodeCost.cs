namespace Compress.Engine.Export;

/// <summary>
/// The cost of one node of an ONNX graph, per image: multiply-accumulates and the parameters (initializer elements)
/// it reads. Lets a report show where the MACs are, not just their total.
/// </summary>
/// <param name="Name">The node's name, or <c>OpType#index</c> when the node has none.</param>
/// <param name="OpType">The ONNX operator, e.g. <c>Conv</c>.</param>
/// <param name="Macs">Multiply-accumulates per image (0 for Relu, pooling, Add, Flatten).</param>
/// <param name="Parameters">Elements of the float initializers the node reads.</param>
/// <param name="OutputShape">Per-image output shape (batch left out); empty when it could not be derived.</param>
public sealed record OnnxNodeCost(string Name, string OpType, long Macs, long Parameters, IReadOnlyList<long> OutputShape);

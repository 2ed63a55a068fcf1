namespace Compress.Engine.Export;

/// <summary>
/// The cost of one node of an ONNX graph, per image: multiply-accumulates and the parameters (initializer elements)
/// it reads. Lets a report show where the MACs are, not just their total.
/// </summary>
/// <param name="Name">The node's name, or <c>OpType#index</c> when the node has none.</param>
/// <param name="OpType">The graph node kind the operator imports as, e.g. <c>Conv</c>, <c>BatchNorm</c>, <c>Linear</c>.</param>
/// <param name="Macs">Multiply-accumulates per image (0 for Relu, pooling, Add, Flatten).</param>
/// <param name="Parameters">Elements of the state the node reads (weights, biases, BatchNorm statistics).</param>
/// <param name="OutputShape">Per-image output shape (batch left out); empty when it could not be derived.</param>
public sealed record OnnxNodeCost(string Name, string OpType, long Macs, long Parameters, IReadOnlyList<long> OutputShape);

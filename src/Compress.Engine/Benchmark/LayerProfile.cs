namespace Compress.Engine.Benchmark;

/// <summary>
/// The cost of one node of a model's <see cref="Models.Graph.ModelGraph"/> for one image, from
/// <see cref="ModelProfiler"/>: where the multiply-accumulates and the bytes are, not only their totals.
/// </summary>
/// <param name="Name">The node's name (for a convolution, BatchNorm or linear layer its state-dict prefix, e.g.
/// <c>layer1.0.conv1</c>).</param>
/// <param name="Kind">The node kind: <c>Conv</c>, <c>BatchNorm</c>, <c>Linear</c>, <c>Relu</c>, <c>MaxPool</c>,
/// <c>GlobalAveragePool</c>, <c>Flatten</c> or <c>Add</c> (the graph node type without its <c>Node</c> suffix).</param>
/// <param name="OutputShape">Per-image output shape, batch left out: <c>[C, H, W]</c> or <c>[features]</c>.</param>
/// <param name="Macs">Multiply-accumulates per image (rules in <see cref="ModelProfiler"/>).</param>
/// <param name="Parameters">Trainable elements the node owns (weight and bias).</param>
/// <param name="Bytes">Size of those parameters as float32 (4 bytes each), the lab's "model size".</param>
/// <param name="StateBytes">Size as float32 of everything inference reads: the parameters plus a BatchNorm's
/// <c>running_mean</c> and <c>running_var</c>.</param>
public sealed record LayerProfile(string Name, string Kind, IReadOnlyList<long> OutputShape, long Macs, long Parameters,
    long Bytes, long StateBytes);

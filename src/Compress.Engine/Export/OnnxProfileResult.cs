namespace Compress.Engine.Export;

/// <summary>Totals and per-node costs of an ONNX model, from <see cref="OnnxProfile.Measure"/>.</summary>
/// <param name="Parameters">Elements of all float initializers (BatchNorm running statistics included: they are stored).</param>
/// <param name="Macs">Multiply-accumulates per image.</param>
/// <param name="Nodes">One entry per graph node, in graph order.</param>
public sealed record OnnxProfileResult(long Parameters, long Macs, IReadOnlyList<OnnxNodeCost> Nodes);

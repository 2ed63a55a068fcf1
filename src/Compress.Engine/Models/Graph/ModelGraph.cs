namespace Compress.Engine.Models.Graph;

/// <summary>
/// A model's computation written out by the model itself: named values flowing through nodes in topological order.
/// The ONNX exporter and (later) channel-pruning dependency analysis read this instead of guessing the data flow from
/// the module tree, which does not say how modules are wired (residual adds, shortcuts, pooling between them).
/// </summary>
/// <param name="Input">Name of the graph's input value (an image batch <c>[N, C, H, W]</c>).</param>
/// <param name="Output">Name of the value holding the logits <c>[N, classes]</c>.</param>
/// <param name="Nodes">The nodes; each reads only the graph input or outputs of earlier nodes.</param>
public sealed record ModelGraph(string Input, string Output, IReadOnlyList<GraphNode> Nodes);

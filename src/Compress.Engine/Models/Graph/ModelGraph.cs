namespace Compress.Engine.Models.Graph;

/// <summary>
/// A network, described once: named values flowing through nodes in topological order. TorchSharp runs it
/// (<see cref="ClassifierModel"/>), and the ONNX exporter, shape inference and MAC counting
/// (<see cref="Benchmark.ModelProfiler"/>) and channel dependency analysis read it; each node kind's behaviour is its
/// entry in the op table (<see cref="GraphNode"/>).
/// </summary>
/// <param name="Input">Name of the graph's input value (an image batch <c>[N, C, H, W]</c>).</param>
/// <param name="Output">Name of the value holding the logits <c>[N, classes]</c>.</param>
/// <param name="Nodes">The nodes; each reads only the graph input or outputs of earlier nodes.</param>
public sealed record ModelGraph(string Input, string Output, IReadOnlyList<GraphNode> Nodes)
{
    /// <summary>
    /// The shape of every parameter and persistent buffer the nodes' modules hold, by state-dict key, in state-dict
    /// order (what <see cref="ClassifierModel"/> creates the modules from). Empty for a graph that only describes an
    /// existing model (analysis reads the model's own state then).
    /// </summary>
    public IReadOnlyDictionary<string, long[]> StateShapes { get; init; } = new Dictionary<string, long[]>();
}

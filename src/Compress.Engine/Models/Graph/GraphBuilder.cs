namespace Compress.Engine.Models.Graph;

/// <summary>
/// Writes a <see cref="ModelGraph"/> the way a PyTorch module's constructor and <c>forward</c> would, one layer per
/// call, recording each layer's state shapes (<see cref="ModelGraph.StateShapes"/>) in state-dict order. Stateful
/// nodes are named after their module and write a value of the same name; each call returns the value written.
/// </summary>
internal sealed class GraphBuilder(string input = "input")
{
    private readonly List<GraphNode> _nodes = [];
    private readonly InsertionOrderedMap<long[]> _shapes = new();

    /// <summary>The graph input's name.</summary>
    public string Input { get; } = input;

    /// <summary>A convolution <c>inChannels -&gt; outChannels</c> with a square kernel.</summary>
    public string Conv(string module, string input, long inChannels, long outChannels, int kernel, int stride, int padding,
        bool bias = false, int groups = 1)
    {
        _shapes.Add(module + ".weight", [outChannels, inChannels / groups, kernel, kernel]);
        if (bias) _shapes.Add(module + ".bias", [outChannels]);
        return Add(new ConvNode(module, input, module, module, stride, padding, Groups: groups, HasBias: bias));
    }

    /// <summary>A BatchNorm over <paramref name="channels"/> (PyTorch's <c>BatchNorm2d</c> state, eps 1e-5).</summary>
    public string BatchNorm(string module, string input, long channels, double epsilon = 1e-5)
    {
        foreach (string key in BatchNormNode.StateKeys) _shapes.Add(module + "." + key, [channels]);
        _shapes.Add(module + ".num_batches_tracked", []);
        return Add(new BatchNormNode(module, input, module, module, epsilon));
    }

    /// <summary>A linear layer <c>inFeatures -&gt; outFeatures</c>.</summary>
    public string Linear(string module, string input, long inFeatures, long outFeatures, bool bias = true, string? output = null)
    {
        _shapes.Add(module + ".weight", [outFeatures, inFeatures]);
        if (bias) _shapes.Add(module + ".bias", [outFeatures]);
        return Add(new LinearNode(module, input, output ?? module, module, bias));
    }

    /// <summary>Appends a node without state; returns its output.</summary>
    public string Add(GraphNode node)
    {
        _nodes.Add(node);
        return node.Output;
    }

    /// <summary>The graph, with <paramref name="output"/> as its logits.</summary>
    public ModelGraph Build(string output) => new(Input, output, _nodes.ToList()) { StateShapes = _shapes };
}

using Compress.Engine.Diagnostics;
using Compress.Engine.Models;
using Compress.Engine.Models.Graph;

namespace Compress.Engine.Benchmark;

/// <summary>
/// Counts multiply-accumulates, parameters and bytes of a model per image (batch 1) by propagating activation shapes
/// through its <see cref="ModelGraph"/>. Every size is read from the state-dict tensor shapes, never from
/// <see cref="ModelOptions"/>, so a model whose channels were physically removed is counted right with no other
/// information.
/// <para>The one MAC convention of the engine (<c>profile</c>, <c>export</c>, <c>bench</c> and the build report all use
/// it, through each node kind's <see cref="GraphNode"/> rule; an ONNX file is imported first): torchprofile's, the
/// profiler of the MIT EfficientML.ai labs (606,164,480 MACs for the lab VGG). Convolution = output elements x
/// (in channels / groups) x kH x kW; linear = output elements x in features (in x out on a flat input); BatchNorm and
/// LayerNorm = one per output element; global average pooling, average pooling and means = one per output element;
/// element-wise multiplication = one per output element; ReLU and other activations, max pooling, addition,
/// subtraction, division, concatenation, padding and reshapes = 0. Parameters are the trainable tensors; state bytes
/// add the BatchNorm running statistics.</para>
/// </summary>
public static class ModelProfiler
{
    /// <summary>Bytes per element: every size is reported as float32, the precision the models run in.</summary>
    public const int BytesPerElement = sizeof(float);

    /// <summary>Profiles <paramref name="model"/> at its natural input, with the shapes of its own state dict.</summary>
    /// <exception cref="CompressException">As <see cref="Profile(ModelGraph, IReadOnlyDictionary{string, long[]}, InputShape)"/>.</exception>
    public static ModelProfile Profile(ClassifierModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var shapes = new Dictionary<string, long[]>(StringComparer.Ordinal);
        foreach (var (key, value) in model.OrderedStateDict()) shapes[key] = value.shape;
        return Profile(model.DescribeGraph(), shapes, model.InputShape);
    }

    /// <summary>
    /// Profiles <paramref name="graph"/> for one image of <paramref name="input"/>, reading layer sizes from
    /// <paramref name="stateShapes"/> (state-dict key to tensor shape, e.g. <c>backbone.conv0.weight</c> to
    /// <c>[64, 3, 3, 3]</c>). Keys no node names are ignored.
    /// </summary>
    /// <exception cref="CompressException">
    /// <see cref="DiagnosticCode.MissingKeys"/> when a node's weight, bias or BatchNorm statistic is not in
    /// <paramref name="stateShapes"/>; <see cref="DiagnosticCode.ShapeMismatch"/> when a tensor's rank or size does not
    /// fit the activation it is applied to (e.g. a convolution's input channels differ from the previous layer's
    /// output channels), or a layer's output would be empty.
    /// </exception>
    /// <exception cref="ArgumentException">The graph reads a value no earlier node writes, or has a node kind this
    /// profiler does not know.</exception>
    public static ModelProfile Profile(ModelGraph graph, IReadOnlyDictionary<string, long[]> stateShapes, InputShape input)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(stateShapes);
        ArgumentNullException.ThrowIfNull(input);
        if (input.Channels < 1 || input.Height < 1 || input.Width < 1)
            throw new ArgumentException($"Input shape {Text([input.Channels, input.Height, input.Width])} has an empty dimension.", nameof(input));

        long[] inputShape = [input.Channels, input.Height, input.Width];
        var values = new Dictionary<string, long[]>(StringComparer.Ordinal) { [graph.Input] = inputShape };
        var layers = new List<LayerProfile>(graph.Nodes.Count);
        var context = new ShapeContext(stateShapes, values);
        foreach (var node in graph.Nodes)
        {
            var cost = node.Infer(context);
            values[node.Output] = cost.Output;
            layers.Add(new LayerProfile(node.Name, node.Kind, cost.Output, cost.Macs, cost.Parameters,
                cost.Parameters * BytesPerElement, (cost.Parameters + cost.Buffers) * BytesPerElement));
        }

        long parameters = layers.Sum(l => l.Parameters);
        return new ModelProfile(layers.Sum(l => l.Macs), parameters, parameters * BytesPerElement,
            layers.Sum(l => l.StateBytes), inputShape, layers);
    }

    private static string Text(IEnumerable<long> shape) => ShapeText.Format(shape);
}

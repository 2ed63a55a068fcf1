using System.Globalization;
using Compress.Engine.Diagnostics;
using Compress.Engine.Models;
using Compress.Engine.Models.Graph;

namespace Compress.Engine.Benchmark;

/// <summary>
/// Counts multiply-accumulates, parameters and bytes of a model per image (batch 1) by propagating activation shapes
/// through its <see cref="ModelGraph"/>. Every size is read from the state-dict tensor shapes, never from
/// <see cref="ModelOptions"/>, so a model whose channels were physically removed is counted right with no other
/// information.
/// <para>MAC rules are torchprofile's, the profiler of the MIT EfficientML.ai labs (606,164,480 MACs for the lab VGG):
/// convolution = output elements x (in channels / groups) x kH x kW; linear = in x out; BatchNorm = one per output
/// element; global average pooling (the mean over H and W) = one per output element; ReLU, max pooling, Flatten and
/// Add = 0 (torchprofile lists <c>aten::add</c> as free).</para>
/// <para>Difference from <see cref="Export.OnnxProfile"/>: that counts ONNX <c>GlobalAveragePool</c> as 0, so on a
/// model exported without BatchNorm folding its total is lower by exactly the pooled channel count (512 for the lab
/// VGG); every other node agrees. Its parameter count includes the BatchNorm running statistics (they are ONNX
/// initializers), which is <see cref="ModelProfile.StateBytes"/> / 4 here.</para>
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
        var context = new Context(stateShapes, values);
        foreach (var node in graph.Nodes)
        {
            var x = context.Value(node, 0);
            var cost = node switch
            {
                ConvNode conv => Conv(conv, x, context),
                BatchNormNode bn => BatchNorm(bn, x, context),
                LinearNode linear => Linear(linear, x, context),
                ReluNode => Free(x),
                MaxPoolNode pool => MaxPool(pool, x),
                GlobalAveragePoolNode gap => GlobalAveragePool(gap, x),
                FlattenNode => Free([Product(x)]),
                AddNode add => Add(add, x, context.Value(node, 1)),
                _ => throw new ArgumentException(
                    $"Graph node '{node.Name}' is a {node.GetType().Name}, which the profiler does not know.", nameof(graph)),
            };
            values[node.Output] = cost.Output;
            string kind = node.GetType().Name;
            if (kind.EndsWith("Node", StringComparison.Ordinal)) kind = kind[..^"Node".Length];
            layers.Add(new LayerProfile(node.Name, kind, cost.Output, cost.Macs, cost.Parameters,
                cost.Parameters * BytesPerElement, (cost.Parameters + cost.Buffers) * BytesPerElement));
        }

        long parameters = layers.Sum(l => l.Parameters);
        return new ModelProfile(layers.Sum(l => l.Macs), parameters, parameters * BytesPerElement,
            layers.Sum(l => l.StateBytes), inputShape, layers);
    }

    private static Cost Conv(ConvNode node, long[] x, Context context)
    {
        string key = node.Module + ".weight";
        var w = context.State(node, key);
        if (w.Length != 4 || x.Length != 3)
            throw Mismatch(key, w, $"a convolution needs a [out, in/groups, kH, kW] weight and a [C, H, W] input, got input {Text(x)}");
        if (node.Groups < 1 || w[0] % node.Groups != 0 || w[1] * node.Groups != x[0])
            throw Mismatch(key, w, string.Create(CultureInfo.InvariantCulture,
                $"{w[1]} input channels x {node.Groups} group(s) do not match the {x[0]} channels of its input '{node.Inputs[0]}' {Text(x)}"));
        long h = ConvOut(x[1], w[2], node.Stride, node.Padding, node.Dilation);
        long width = ConvOut(x[2], w[3], node.Stride, node.Padding, node.Dilation);
        if (h < 1 || width < 1)
            throw Mismatch(key, w, $"the output of '{node.Name}' on its input {Text(x)} would be empty");
        long parameters = Product(w);
        if (node.HasBias) parameters += Vector(node, node.Module + ".bias", w[0], context);
        long[] output = [w[0], h, width];
        return new Cost(output, Product(output) * w[1] * w[2] * w[3], parameters, 0);
    }

    private static Cost BatchNorm(BatchNormNode node, long[] x, Context context)
    {
        if (x.Length < 1) throw Mismatch(node.Module + ".weight", [], "a BatchNorm needs a [C, ...] input");
        long channels = x[0];
        long parameters = Vector(node, node.Module + ".weight", channels, context) + Vector(node, node.Module + ".bias", channels, context);
        long buffers = Vector(node, node.Module + ".running_mean", channels, context) +
            Vector(node, node.Module + ".running_var", channels, context);
        return new Cost(x, Product(x), parameters, buffers);
    }

    private static Cost Linear(LinearNode node, long[] x, Context context)
    {
        string key = node.Module + ".weight";
        var w = context.State(node, key);
        if (w.Length != 2 || x.Length != 1 || w[1] != x[0])
            throw Mismatch(key, w, $"a linear layer's [out, in] weight must match its flat input '{node.Inputs[0]}' {Text(x)}");
        long parameters = Product(w);
        if (node.HasBias) parameters += Vector(node, node.Module + ".bias", w[0], context);
        return new Cost([w[0]], w[0] * w[1], parameters, 0);
    }

    private static Cost MaxPool(MaxPoolNode node, long[] x)
    {
        if (x.Length != 3) throw new ArgumentException($"Max pool '{node.Name}' reads {Text(x)}, not a [C, H, W] value.", nameof(node));
        long h = ConvOut(x[1], node.Kernel, node.Stride, node.Padding, 1);
        long w = ConvOut(x[2], node.Kernel, node.Stride, node.Padding, 1);
        if (h < 1 || w < 1)
            throw new CompressException(DiagnosticCode.ShapeMismatch,
                $"Max pool '{node.Name}' would give an empty output on its input {Text(x)}.",
                hint: "The input image is too small for this architecture.");
        return Free([x[0], h, w]);
    }

    private static Cost GlobalAveragePool(GlobalAveragePoolNode node, long[] x)
    {
        if (x.Length != 3) throw new ArgumentException($"Global average pool '{node.Name}' reads {Text(x)}, not a [C, H, W] value.", nameof(node));
        long[] output = [x[0], 1, 1];
        // torchprofile counts aten::mean and adaptive_avg_pool2d as one MAC per output element.
        return new Cost(output, x[0], 0, 0);
    }

    private static Cost Add(AddNode node, long[] left, long[] right)
    {
        if (!left.AsSpan().SequenceEqual(right))
            throw new CompressException(DiagnosticCode.ShapeMismatch,
                $"Add '{node.Name}' sums '{node.Left}' {Text(left)} and '{node.Right}' {Text(right)}, which differ in shape.",
                hint: "Residual branches must keep the same channels; prune the channels tied by an add together.");
        return Free(left);
    }

    private static Cost Free(long[] output) => new(output, 0, 0, 0);

    /// <summary>PyTorch's output size: <c>floor((size + 2 padding - dilation (kernel - 1) - 1) / stride) + 1</c>.</summary>
    private static long ConvOut(long size, long kernel, int stride, int padding, int dilation)
    {
        long span = size + (2L * padding) - (dilation * (kernel - 1)) - 1;
        return span < 0 || stride < 1 ? 0 : (span / stride) + 1;
    }

    /// <summary>Checks that <paramref name="key"/> is a vector of <paramref name="length"/>; returns its length.</summary>
    private static long Vector(GraphNode node, string key, long length, Context context)
    {
        var shape = context.State(node, key);
        if (shape.Length != 1 || shape[0] != length)
            throw Mismatch(key, shape, string.Create(CultureInfo.InvariantCulture,
                $"'{node.Name}' needs a vector of its {length} channels"));
        return length;
    }

    private static CompressException Mismatch(string key, long[] shape, string why) =>
        new(DiagnosticCode.ShapeMismatch, $"State tensor '{key}' {Text(shape)} does not fit the graph: {why}.",
            hint: "Each layer's weights must match the previous layer's output; a channel-pruned checkpoint must shrink " +
                "the producing layer, its BatchNorm and every consumer together.");

    private static long Product(IEnumerable<long> shape) => shape.Aggregate(1L, (a, b) => a * b);

    private static string Text(IEnumerable<long> shape) => ShapeText.Format(shape);

    /// <summary>Output shape, MACs, parameter elements and non-parameter state elements (BatchNorm statistics) of a node.</summary>
    private readonly record struct Cost(long[] Output, long Macs, long Parameters, long Buffers);

    /// <summary>The state shapes and the activation shapes computed so far.</summary>
    private sealed class Context(IReadOnlyDictionary<string, long[]> state, Dictionary<string, long[]> values)
    {
        public long[] State(GraphNode node, string key) => state.TryGetValue(key, out var shape)
            ? shape ?? throw new ArgumentException($"The shape of '{key}' is null.")
            : throw new CompressException(DiagnosticCode.MissingKeys,
                $"Graph node '{node.Name}' needs the state tensor '{key}', which the weights do not have.",
                hint: "Check that the weights belong to this architecture (--model).");

        public long[] Value(GraphNode node, int index) => values.TryGetValue(node.Inputs[index], out var shape)
            ? shape
            : throw new ArgumentException(
                $"Graph node '{node.Name}' reads '{node.Inputs[index]}', which no earlier node writes.", nameof(node));
    }
}

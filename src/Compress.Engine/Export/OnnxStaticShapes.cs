using Onnx;

namespace Compress.Engine.Export;

/// <summary>
/// Per-image static shapes (batch dimension left out) of the values of an inference graph, propagated from the graph
/// input's C, H, W through the operators the exporter emits. Values whose shape cannot be derived (an operator this
/// class does not know, a broadcast it does not model) are simply absent, so callers can stay conservative.
/// </summary>
internal static class OnnxStaticShapes
{
    /// <summary>Shapes by value name; the first dimension of every graph tensor (the batch) is dropped.</summary>
    public static Dictionary<string, long[]> Infer(GraphProto graph)
    {
        var initializers = graph.Initializer.ToDictionary(t => t.Name, StringComparer.Ordinal);
        var shapes = new Dictionary<string, long[]>(StringComparer.Ordinal);
        foreach (var input in graph.Input)
        {
            if (initializers.ContainsKey(input.Name) || input.Type?.TensorType?.Shape is not { } shape || shape.Dim.Count < 1)
                continue;
            var dims = shape.Dim.Skip(1).Select(d => d.ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue ? d.DimValue : -1).ToArray();
            if (dims.All(d => d > 0))
                shapes[input.Name] = dims;
        }
        foreach (var node in graph.Node)
        {
            if (node.Output.Count == 0 || node.Input.Count == 0 || !shapes.TryGetValue(node.Input[0], out var x))
                continue;
            var y = OutputShape(node, x, shapes, initializers);
            if (y is not null && y.All(d => d > 0))
                shapes[node.Output[0]] = y;
        }
        return shapes;
    }

    private static long[]? OutputShape(NodeProto node, long[] x, Dictionary<string, long[]> shapes, Dictionary<string, TensorProto> initializers)
    {
        switch (node.OpType)
        {
            case "Relu" or "BatchNormalization" or "Identity" or "Sigmoid" or "Clip" or "LeakyRelu" or "Dropout":
                return x;
            case "Add" or "Sub" or "Mul":
                // Only the residual case: every input is a graph value of the same shape (no broadcast).
                foreach (var name in node.Input)
                {
                    if (!shapes.TryGetValue(name, out var s) || !s.SequenceEqual(x))
                        return null;
                }
                return x;
            case "Conv":
                {
                    if (x.Length != 3 || node.Input.Count < 2 || !initializers.TryGetValue(node.Input[1], out var w) || w.Dims.Count != 4)
                        return null;
                    var (h, wd) = Spatial(node, x, [w.Dims[2], w.Dims[3]]);
                    return h > 0 && wd > 0 ? [w.Dims[0], h, wd] : null;
                }
            case "MaxPool" or "AveragePool":
                {
                    if (x.Length != 3 || OnnxAttributes.Find(node, "kernel_shape") is not { } k || k.Ints.Count != 2)
                        return null;
                    var (h, wd) = Spatial(node, x, [k.Ints[0], k.Ints[1]]);
                    return h > 0 && wd > 0 ? [x[0], h, wd] : null;
                }
            case "GlobalAveragePool" or "GlobalMaxPool":
                return x.Length == 3 ? [x[0], 1, 1] : null;
            case "Flatten":
                return OnnxAttributes.Int(node, "axis", 1) == 1 ? [x.Aggregate(1L, (a, b) => a * b)] : null;
            case "Gemm":
                {
                    if (x.Length != 1 || OnnxAttributes.Int(node, "transA", 0) != 0 || node.Input.Count < 2
                        || !initializers.TryGetValue(node.Input[1], out var w) || w.Dims.Count != 2)
                        return null;
                    return [OnnxAttributes.Int(node, "transB", 0) != 0 ? w.Dims[0] : w.Dims[1]];
                }
            default:
                return null;
        }
    }

    /// <summary>Output H, W of a 2-D convolution or pooling window (explicit pads only; auto_pad other than NOTSET is unknown).</summary>
    private static (long H, long W) Spatial(NodeProto node, long[] x, long[] kernel)
    {
        var autoPad = OnnxAttributes.String(node, "auto_pad", "NOTSET");
        if (autoPad is not ("NOTSET" or ""))
            return (-1, -1);
        var pads = OnnxAttributes.Ints(node, "pads", 4, 0);
        var strides = OnnxAttributes.Ints(node, "strides", 2, 1);
        var dilations = OnnxAttributes.Ints(node, "dilations", 2, 1);
        var ceil = OnnxAttributes.Int(node, "ceil_mode", 0) != 0;
        if (pads.Length != 4 || strides.Length != 2 || dilations.Length != 2)
            return (-1, -1);
        long Out(int axis)
        {
            var span = x[axis + 1] + pads[axis] + pads[axis + 2] - (dilations[axis] * (kernel[axis] - 1)) - 1;
            if (span < 0)
                return -1;
            return (ceil ? (span + strides[axis] - 1) / strides[axis] : span / strides[axis]) + 1;
        }
        return (Out(0), Out(1));
    }
}

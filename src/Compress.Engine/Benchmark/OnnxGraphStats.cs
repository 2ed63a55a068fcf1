using Onnx;

namespace Compress.Engine.Benchmark;

/// <summary>
/// Size statistics read from the ONNX protobuf itself: parameters (sum of initializer element counts) and
/// multiply-accumulates per image of Conv, Gemm and MatMul nodes, found by propagating static shapes at batch 1
/// through the common CNN operators. When the graph uses an operator this propagation does not know (or a shape it
/// cannot resolve), MACs are reported as unknown (null) rather than guessed.
/// </summary>
internal static class OnnxGraphStats
{
    /// <summary>Sum of the element counts of every initializer of the main graph.</summary>
    public static long CountParameters(GraphProto graph)
    {
        long total = 0;
        foreach (var init in graph.Initializer) total += Product(init.Dims);
        return total;
    }

    /// <summary>Multiply-accumulates of one image (batch 1), or null when a shape could not be propagated.</summary>
    public static long? CountMacs(GraphProto graph)
    {
        var shapes = new Dictionary<string, long[]>(StringComparer.Ordinal);
        var constants = new Dictionary<string, long[]>(StringComparer.Ordinal);
        foreach (var init in graph.Initializer)
        {
            shapes[init.Name] = [.. init.Dims];
            if (Int64Values(init) is { } values) constants[init.Name] = values;
        }
        foreach (var input in graph.Input)
        {
            if (shapes.ContainsKey(input.Name)) continue;
            var dims = input.Type?.TensorType?.Shape?.Dim;
            if (dims is null) return null;
            // Symbolic dimensions (the batch) become 1: MACs are per image.
            shapes[input.Name] = [.. dims.Select(d => d.ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue && d.DimValue > 0 ? d.DimValue : 1)];
        }
        long macs = 0;
        foreach (var node in graph.Node)
        {
            long[]? In(int i) => i < node.Input.Count && shapes.TryGetValue(node.Input[i], out var s) ? s : null;
            long[]? output;
            switch (node.OpType)
            {
                case "Conv":
                {
                    var x = In(0);
                    var w = In(1);
                    if (x is not { Length: 4 } || w is not { Length: 4 } || Str(node, "auto_pad", "NOTSET") != "NOTSET")
                        return null;
                    long group = Int(node, "group", 1);
                    var (h, width) = Spatial(x, node, [w[2], w[3]], ceil: false);
                    if (h < 1 || width < 1) return null;
                    output = [x[0], w[0], h, width];
                    macs += x[0] * w[0] * h * width * (x[1] / group) * w[2] * w[3];
                    break;
                }
                case "MaxPool" or "AveragePool":
                {
                    var x = In(0);
                    var k = Ints(node, "kernel_shape");
                    if (x is not { Length: 4 } || k is not { Length: 2 } || Str(node, "auto_pad", "NOTSET") != "NOTSET")
                        return null;
                    var (h, width) = Spatial(x, node, k, ceil: Int(node, "ceil_mode", 0) != 0);
                    if (h < 1 || width < 1) return null;
                    output = [x[0], x[1], h, width];
                    break;
                }
                case "GlobalAveragePool" or "GlobalMaxPool":
                {
                    var x = In(0);
                    if (x is null || x.Length < 3) return null;
                    output = [x[0], x[1], .. Enumerable.Repeat(1L, x.Length - 2)];
                    break;
                }
                case "Relu" or "LeakyRelu" or "Sigmoid" or "Tanh" or "Clip" or "BatchNormalization" or "Identity"
                    or "Dropout" or "Softmax" or "LogSoftmax" or "HardSwish" or "HardSigmoid" or "Elu" or "Erf"
                    or "Sqrt" or "Neg" or "Cast" or "Gelu":
                    output = In(0);
                    break;
                case "Add" or "Sub" or "Mul" or "Div" or "Pow":
                    output = Broadcast(In(0), In(1));
                    break;
                case "Flatten":
                {
                    var x = In(0);
                    if (x is null) return null;
                    int axis = (int)Int(node, "axis", 1);
                    if (axis < 0) axis += x.Length;
                    output = [Product(x.Take(axis)), Product(x.Skip(axis))];
                    break;
                }
                case "Gemm":
                {
                    var a = In(0);
                    var b = In(1);
                    if (a is not { Length: 2 } || b is not { Length: 2 }) return null;
                    long m = Int(node, "transA", 0) != 0 ? a[1] : a[0];
                    long k = Int(node, "transA", 0) != 0 ? a[0] : a[1];
                    long n = Int(node, "transB", 0) != 0 ? b[0] : b[1];
                    output = [m, n];
                    macs += m * n * k;
                    break;
                }
                case "MatMul":
                {
                    var a = In(0);
                    var b = In(1);
                    if (a is not { Length: >= 2 } || b is not { Length: 2 }) return null;
                    output = [.. a[..^1], b[1]];
                    macs += Product(output) * a[^1];
                    break;
                }
                case "Reshape":
                {
                    var x = In(0);
                    if (x is null || node.Input.Count < 2 || !constants.TryGetValue(node.Input[1], out var target))
                        return null;
                    output = Reshape(x, target);
                    break;
                }
                case "ReduceMean":
                {
                    var x = In(0);
                    long[]? axes = node.Input.Count > 1 && constants.TryGetValue(node.Input[1], out var a) ? a : Ints(node, "axes");
                    if (x is null || axes is null) return null;
                    bool keep = Int(node, "keepdims", 1) != 0;
                    var set = axes.Select(v => v < 0 ? v + x.Length : v).ToHashSet();
                    output = keep
                        ? [.. x.Select((d, i) => set.Contains(i) ? 1 : d)]
                        : [.. x.Where((_, i) => !set.Contains(i))];
                    break;
                }
                default:
                    return null;
            }
            if (output is null || node.Output.Count == 0) return null;
            shapes[node.Output[0]] = output;
        }
        return macs;
    }

    private static (long H, long W) Spatial(long[] x, NodeProto node, long[] kernel, bool ceil)
    {
        var pads = Ints(node, "pads") ?? [0, 0, 0, 0];
        var strides = Ints(node, "strides") ?? [1, 1];
        var dilations = Ints(node, "dilations") ?? [1, 1];
        if (pads.Length != 4 || strides.Length != 2 || dilations.Length != 2) return (0, 0);
        long Out(long size, int i)
        {
            long span = size + pads[i] + pads[i + 2] - (((kernel[i] - 1) * dilations[i]) + 1);
            if (span < 0) return 0;
            return (ceil ? (span + strides[i] - 1) / strides[i] : span / strides[i]) + 1;
        }
        return (Out(x[2], 0), Out(x[3], 1));
    }

    private static long[]? Broadcast(long[]? a, long[]? b)
    {
        if (a is null || b is null) return null;
        int n = Math.Max(a.Length, b.Length);
        var result = new long[n];
        for (int i = 0; i < n; i++)
        {
            long da = i < n - a.Length ? 1 : a[i - (n - a.Length)];
            long db = i < n - b.Length ? 1 : b[i - (n - b.Length)];
            if (da != db && da != 1 && db != 1) return null;
            result[i] = Math.Max(da, db);
        }
        return result;
    }

    private static long[]? Reshape(long[] x, long[] target)
    {
        var result = new long[target.Length];
        int unknown = -1;
        for (int i = 0; i < target.Length; i++)
        {
            if (target[i] == 0 && i < x.Length) result[i] = x[i];
            else if (target[i] == -1)
            {
                if (unknown >= 0) return null;
                unknown = i;
            }
            else result[i] = target[i];
        }
        if (unknown >= 0)
        {
            long known = Product(result.Where((_, i) => i != unknown));
            if (known <= 0) return null;
            result[unknown] = Product(x) / known;
        }
        return Product(result) == Product(x) ? result : null;
    }

    private static long[]? Int64Values(TensorProto tensor)
    {
        if (tensor.DataType != (int)TensorProto.Types.DataType.Int64) return null;
        if (tensor.Int64Data.Count > 0) return [.. tensor.Int64Data];
        var raw = tensor.RawData.Span;
        if (raw.Length % 8 != 0 || raw.Length > 8 * 64) return null;
        var values = new long[raw.Length / 8];
        for (int i = 0; i < values.Length; i++)
            values[i] = System.Buffers.Binary.BinaryPrimitives.ReadInt64LittleEndian(raw.Slice(i * 8, 8));
        return values;
    }

    private static AttributeProto? Attr(NodeProto node, string name) =>
        node.Attribute.FirstOrDefault(a => a.Name == name);

    private static long Int(NodeProto node, string name, long fallback) => Attr(node, name)?.I ?? fallback;

    private static long[]? Ints(NodeProto node, string name) => Attr(node, name) is { } a ? [.. a.Ints] : null;

    private static string Str(NodeProto node, string name, string fallback) =>
        Attr(node, name) is { } a ? a.S.ToStringUtf8() : fallback;

    private static long Product(IEnumerable<long> dims)
    {
        long p = 1;
        foreach (long d in dims) p *= d;
        return p;
    }
}

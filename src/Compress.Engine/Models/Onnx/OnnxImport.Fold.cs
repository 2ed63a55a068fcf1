using Compress.Engine.Export;
using Onnx;

namespace Compress.Engine.Models.Onnx;

/// <summary>
/// Constant folding at import: <c>Constant</c> nodes, the integer shape computations of a dynamic-batch export
/// (<c>Shape</c>, <c>Gather</c>, <c>Unsqueeze</c>, <c>Concat</c>, <c>Slice</c>, <c>Cast</c> and integer arithmetic,
/// with the batch carried as a symbol), and weights reached through <c>Identity</c>, <c>Transpose</c>,
/// <c>Reshape</c> or arithmetic on constants, which stay traceable to their initializer (and trainable).
/// </summary>
internal sealed partial class OnnxImport
{
    /// <summary>Folds <paramref name="node"/> when its result is a constant; false when it must become a graph node.</summary>
    private bool FoldConstant(NodeProto node)
    {
        string op = node.OpType;
        if (op == "Constant")
        {
            SetConstant(node.Output[0], ConstantValue(node));
            return true;
        }
        if (op == "Shape")
        {
            if (IsConstant(node.Input[0]))
            {
                long[] dims = FloatConst(node.Input[0])?.Dims ?? IntConst(node.Input[0])!.Dims;
                SetInt(node.Output[0], new IntConstant([dims.Length], dims));
                return true;
            }
            var shape = ShapeOf(node.Input[0]) ?? throw Unsupported(node, "it reads a value the importer does not track");
            long[] full = [Batch, .. shape];
            long start = OnnxAttributes.Int(node, "start", 0), end = OnnxAttributes.Int(node, "end", full.Length);
            if (start < 0) start += full.Length;
            if (end < 0) end += full.Length;
            start = Math.Clamp(start, 0, full.Length);
            end = Math.Clamp(end, start, full.Length);
            long[] part = full[(int)start..(int)end];
            SetInt(node.Output[0], new IntConstant([part.Length], part));
            return true;
        }
        var inputs = node.Input.Where(i => i.Length > 0).ToList();
        if (inputs.Count == 0 || !inputs.All(IsConstant)) return false;

        object? result = op switch
        {
            "Identity" or "Dropout" => Constant(node.Input[0]),
            "Cast" => CastConstant(node),
            "Gather" => Gather(node),
            "Unsqueeze" or "Squeeze" or "Reshape" or "Flatten" => Reshaped(node),
            "Concat" => ConcatConstants(node),
            "Slice" => SliceConstant(node),
            "Transpose" => TransposeConstant(node),
            "Add" or "Sub" or "Mul" or "Div" or "Pow" => Arithmetic(node),
            "Sqrt" or "Neg" or "Reciprocal" => Unary(node),
            "ConstantOfShape" => ConstantOfShape(node),
            _ => null,
        };
        if (result is null) return false;
        SetConstant(node.Output[0], result);
        return true;
    }

    private void SetConstant(string name, object value)
    {
        // A folded value must fill its dims (a Reshape to an incompatible shape, a Constant whose values do not fit).
        long[] dims = value is FloatConstant fc ? fc.Dims : ((IntConstant)value).Dims;
        long length = value is FloatConstant fl ? (fl.Raw?.Length / 4 ?? fl.Data.LongLength) : ((IntConstant)value).Data.LongLength;
        if (dims.Any(d => d < 0) || dims.Aggregate(1.0, (a, b) => a * b) != length)
            throw Invalid($"the value '{name}' has {length} values for dims {ShapeText.Format(dims)}");
        if (value is FloatConstant f) SetFloat(name, f);
        else SetInt(name, (IntConstant)value);
    }

    private object Constant(string name) => (object?)FloatConst(name) ?? IntConst(name)!;

    private object ConstantValue(NodeProto node)
    {
        string source = node.Output[0];
        foreach (var attribute in node.Attribute)
        {
            switch (attribute.Name)
            {
                case "value":
                    return ReadConstant(attribute.T, source) ?? throw new Diagnostics.CompressException(
                        Diagnostics.DiagnosticCode.OnnxNonFloatWeights,
                        $"ONNX model '{_path}': Constant '{NodeLabel(node)}' holds a {(TensorProto.Types.DataType)attribute.T.DataType} tensor, which is not supported.",
                        _path, "Export the float32 model.");
                case "value_float": return new FloatConstant([], [attribute.F], source);
                case "value_floats": return new FloatConstant([attribute.Floats.Count], [.. attribute.Floats], source);
                case "value_int": return new IntConstant([], [attribute.I]);
                case "value_ints": return new IntConstant([attribute.Ints.Count], [.. attribute.Ints]);
            }
        }
        throw Unsupported(node, "the Constant has no value the importer reads (value, value_float(s), value_int(s))");
    }

    private object? CastConstant(NodeProto node)
    {
        var to = (TensorProto.Types.DataType)OnnxAttributes.Int(node, "to", 0);
        if (to is TensorProto.Types.DataType.Int64 or TensorProto.Types.DataType.Int32)
        {
            if (IntConst(node.Input[0]) is { } ints) return ints;
            var floats = FloatConst(node.Input[0])!;
            return new IntConstant(floats.Dims, floats.Data.Select(v => (long)v).ToArray());
        }
        if (to == TensorProto.Types.DataType.Float)
        {
            if (FloatConst(node.Input[0]) is { } floats) return floats;
            var ints = IntConst(node.Input[0])!;
            return ints.Data.Contains(Batch) ? null : new FloatConstant(ints.Dims, ints.Data.Select(v => (float)v).ToArray(), node.Output[0]);
        }
        return null;
    }

    private IntConstant? Gather(NodeProto node)
    {
        var indices = IntConst(node.Input[1]);
        if (indices is null || OnnxAttributes.Int(node, "axis", 0) != 0) return null;
        if (IntConst(node.Input[0]) is { Dims.Length: 1 } data)
        {
            long[] picked = indices.Data.Select(i => data.Data[i < 0 ? i + data.Data.Length : i]).ToArray();
            return new IntConstant(indices.Dims, picked);
        }
        return null;
    }

    private object? Reshaped(NodeProto node)
    {
        object value = Constant(node.Input[0]);
        long[] dims = value is FloatConstant f ? f.Dims : ((IntConstant)value).Dims;
        long count = dims.Aggregate(1L, (a, b) => a * b);
        long[] newDims;
        switch (node.OpType)
        {
            case "Reshape":
            {
                var target = IntConst(node.Input[1]);
                if (target is null || target.Data.Contains(Batch)) return null;
                newDims = target.Data.Select((t, d) => t == 0 && d < dims.Length ? dims[d] : t).ToArray();
                int infer = Array.IndexOf(newDims, -1L);
                if (infer >= 0) newDims[infer] = count / Math.Max(1, newDims.Where(d => d != -1).Aggregate(1L, (a, b) => a * b));
                break;
            }
            case "Flatten":
            {
                long axis = OnnxAttributes.Int(node, "axis", 1);
                if (axis < 0) axis += dims.Length;
                newDims = [dims.Take((int)axis).Aggregate(1L, (a, b) => a * b), dims.Skip((int)axis).Aggregate(1L, (a, b) => a * b)];
                break;
            }
            default:
            {
                long[] axes = Opset >= 13
                    ? (node.Input.Count > 1 ? IntConst(node.Input[1])?.Data ?? [] : [])
                    : OnnxAttributes.Find(node, "axes") is { } attribute ? [.. attribute.Ints] : [];
                var list = dims.ToList();
                if (node.OpType == "Unsqueeze")
                {
                    int rank = dims.Length + axes.Length;
                    foreach (long axis in axes.Select(a => a < 0 ? a + rank : a).Order()) list.Insert((int)axis, 1);
                }
                else
                {
                    var drop = axes.Length == 0
                        ? Enumerable.Range(0, dims.Length).Where(d => dims[d] == 1).Select(d => (long)d).ToHashSet()
                        : axes.Select(a => a < 0 ? a + dims.Length : a).ToHashSet();
                    list = list.Where((_, d) => !drop.Contains(d)).ToList();
                }
                newDims = [.. list];
                break;
            }
        }
        if (newDims.Aggregate(1L, (a, b) => a * b) != count) return null;
        return value is FloatConstant fc ? fc with { Dims = newDims } : (IntConstant)value with { Dims = newDims };
    }

    private IntConstant? ConcatConstants(NodeProto node)
    {
        var parts = node.Input.Where(i => i.Length > 0).Select(IntConst).ToList();
        if (parts.Any(p => p is null || p.Dims.Length > 1)) return null;
        long[] data = parts.SelectMany(p => p!.Data).ToArray();
        return new IntConstant([data.Length], data);
    }

    private IntConstant? SliceConstant(NodeProto node)
    {
        if (node.Input.Count < 3 || IntConst(node.Input[0]) is not { Dims.Length: 1 } data) return null;
        var starts = IntConst(node.Input[1]);
        var ends = IntConst(node.Input[2]);
        if (starts is null || ends is null || starts.Data.Length != 1) return null;
        if (node.Input.Count > 4 && node.Input[4].Length > 0 && IntConst(node.Input[4])?.Data[0] != 1) return null;
        long length = data.Data.Length;
        long Clamp(long v) => Math.Clamp(v < 0 ? v + length : v, 0, length);
        long start = Clamp(starts.Data[0]), end = Math.Max(start, Clamp(ends.Data[0]));
        long[] part = data.Data[(int)start..(int)end];
        return new IntConstant([part.Length], part);
    }

    private FloatConstant? TransposeConstant(NodeProto node)
    {
        if (FloatConst(node.Input[0]) is not { } value) return null;
        int rank = value.Dims.Length;
        long[] perm = OnnxAttributes.Find(node, "perm") is { } attribute ? [.. attribute.Ints] : Enumerable.Range(0, rank).Reverse().Select(d => (long)d).ToArray();
        long[] newDims = perm.Select(p => value.Dims[p]).ToArray();
        var oldStrides = new long[rank];
        for (int d = rank - 1, stride = 1; d >= 0; stride *= (int)value.Dims[d], d--) oldStrides[d] = stride;
        var data = new float[value.Data.Length];
        var index = new long[rank];
        for (long o = 0; o < data.LongLength; o++)
        {
            long source = 0;
            for (int d = 0; d < rank; d++) source += index[d] * oldStrides[perm[d]];
            data[o] = value.Data[source];
            for (int d = rank - 1; d >= 0; d--)
            {
                if (++index[d] < newDims[d]) break;
                index[d] = 0;
            }
        }
        return new FloatConstant(newDims, data, value.Source + " (transposed)");
    }

    private object? Arithmetic(NodeProto node)
    {
        var a = Constant(node.Input[0]);
        var b = Constant(node.Input[1]);
        if (a is IntConstant ia && b is IntConstant ib)
        {
            if (!SameOrScalar(ia.Data.Length, ib.Data.Length)) return null;
            int n = Math.Max(ia.Data.Length, ib.Data.Length);
            var data = new long[n];
            for (int i = 0; i < n; i++)
            {
                long x = ia.Data[ia.Data.Length == 1 ? 0 : i], y = ib.Data[ib.Data.Length == 1 ? 0 : i];
                if (x == Batch || y == Batch)
                {
                    // The batch survives only multiplication or division by 1.
                    if ((node.OpType is "Mul" or "Div" && y == 1) || (node.OpType == "Mul" && x == 1)) data[i] = Batch;
                    else return null;
                    continue;
                }
                data[i] = node.OpType switch
                {
                    "Add" => x + y,
                    "Sub" => x - y,
                    "Mul" => x * y,
                    "Div" => y == 0 ? 0 : x / y,
                    _ => (long)Math.Pow(x, y),
                };
            }
            return new IntConstant(ia.Data.Length >= ib.Data.Length ? ia.Dims : ib.Dims, data);
        }
        if (a is FloatConstant fa && b is FloatConstant fb)
        {
            if (!SameOrScalar(fa.Data.Length, fb.Data.Length)) return null;
            int n = Math.Max(fa.Data.Length, fb.Data.Length);
            var data = new float[n];
            for (int i = 0; i < n; i++)
            {
                float x = fa.Data[fa.Data.Length == 1 ? 0 : i], y = fb.Data[fb.Data.Length == 1 ? 0 : i];
                data[i] = node.OpType switch
                {
                    "Add" => x + y,
                    "Sub" => x - y,
                    "Mul" => x * y,
                    "Div" => x / y,
                    _ => MathF.Pow(x, y),
                };
            }
            var larger = fa.Data.Length >= fb.Data.Length ? fa : fb;
            return new FloatConstant(larger.Dims, data, larger.Source);
        }
        return null;
    }

    private object? Unary(NodeProto node)
    {
        if (FloatConst(node.Input[0]) is not { } value) return null;
        Func<float, float> f = node.OpType switch
        {
            "Sqrt" => MathF.Sqrt,
            "Neg" => v => -v,
            _ => v => 1 / v,
        };
        return value with { Data = value.Data.Select(f).ToArray() };
    }

    private object? ConstantOfShape(NodeProto node)
    {
        var shape = IntConst(node.Input[0]);
        if (shape is null || shape.Data.Contains(Batch)) return null;
        long count = shape.Data.Aggregate(1L, (a, b) => a * b);
        if (count > 1 << 24) return null;
        var fill = OnnxAttributes.Find(node, "value") is { } attribute ? ReadConstant(attribute.T, node.Output[0]) : null;
        return fill switch
        {
            IntConstant ints => new IntConstant(shape.Data, Enumerable.Repeat(ints.Data[0], (int)count).ToArray()),
            FloatConstant floats => new FloatConstant(shape.Data, Enumerable.Repeat(floats.Data[0], (int)count).ToArray(), node.Output[0]),
            _ => new FloatConstant(shape.Data, new float[count], node.Output[0]),
        };
    }

    private static bool SameOrScalar(int a, int b) => a == b || a == 1 || b == 1;
}

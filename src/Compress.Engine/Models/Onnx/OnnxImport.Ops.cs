using Compress.Engine.Export;
using Compress.Engine.Models.Graph;
using Onnx;

namespace Compress.Engine.Models.Onnx;

/// <summary>
/// The ONNX op table: one handler per op type, each turning an ONNX node into graph nodes (or into nothing, for an
/// Identity or a Dropout, or into a folded constant). Patterns a PyTorch export spells out in several ops are
/// recognised here as one graph node: SiLU (<c>x * Sigmoid(x)</c>), HardSwish (<c>x * HardSigmoid(x)</c> at opset
/// 13), exact GELU (<c>x * (1 + Erf(x / sqrt 2)) * 0.5</c>), ReLU6 (<c>Clip(0, 6)</c>), global average pooling as
/// <c>ReduceMean</c> over height and width, flattening as <c>Reshape</c>, a linear layer as <c>MatMul</c> + <c>Add</c>.
/// </summary>
internal sealed partial class OnnxImport
{
    private delegate void Handler(OnnxImport import, NodeProto node, int index);

    private static readonly Dictionary<string, Handler> Ops = new(StringComparer.Ordinal)
    {
        ["Conv"] = (i, n, k) => i.Conv(n, k),
        ["BatchNormalization"] = (i, n, k) => i.BatchNorm(n, k),
        ["Relu"] = (i, n, k) => i.Emit(new ReluNode(i.NodeName(n, k), i.Value(n, 0), n.Output[0])),
        ["Clip"] = (i, n, k) => i.Clip(n, k),
        ["Sigmoid"] = (i, n, k) => i.Activate(n, k, Activation.Sigmoid),
        ["HardSigmoid"] = (i, n, k) => i.Activate(n, k, Activation.HardSigmoid,
            OnnxAttributes.Float(n, "alpha", 0.2f), OnnxAttributes.Float(n, "beta", 0.5f)),
        ["HardSwish"] = (i, n, k) => i.Activate(n, k, Activation.HardSwish),
        ["Tanh"] = (i, n, k) => i.Activate(n, k, Activation.Tanh),
        ["Erf"] = (i, n, k) => i.Activate(n, k, Activation.Erf),
        ["Sqrt"] = (i, n, k) => i.Activate(n, k, Activation.Sqrt),
        ["Gelu"] = (i, n, k) => i.Gelu(n, k),
        ["Add"] = (i, n, k) => i.Binary(n, k, BinaryOp.Add),
        ["Sub"] = (i, n, k) => i.Binary(n, k, BinaryOp.Sub),
        ["Mul"] = (i, n, k) => i.Binary(n, k, BinaryOp.Mul),
        ["Div"] = (i, n, k) => i.Binary(n, k, BinaryOp.Div),
        ["Pow"] = (i, n, k) => i.Binary(n, k, BinaryOp.Pow),
        ["MaxPool"] = (i, n, k) => i.Pool(n, k, max: true),
        ["AveragePool"] = (i, n, k) => i.Pool(n, k, max: false),
        ["GlobalAveragePool"] = (i, n, k) => i.Emit(new GlobalAveragePoolNode(i.NodeName(n, k), i.Value(n, 0), n.Output[0])),
        ["ReduceMean"] = (i, n, k) => i.ReduceMean(n, k),
        ["Flatten"] = (i, n, k) => i.Flatten(n, k),
        ["Reshape"] = (i, n, k) => i.Reshape(n, k, i.Ints(n, 1, "shape").Data),
        ["Squeeze"] = (i, n, k) => i.Squeeze(n, k, unsqueeze: false),
        ["Unsqueeze"] = (i, n, k) => i.Squeeze(n, k, unsqueeze: true),
        ["Transpose"] = (i, n, k) => i.Transpose(n, k),
        ["Concat"] = (i, n, k) => i.Concat(n, k),
        ["Split"] = (i, n, k) => i.Split(n, k),
        ["Slice"] = (i, n, k) => i.Slice(n, k),
        ["Gemm"] = (i, n, k) => i.Gemm(n, k),
        ["MatMul"] = (i, n, k) => i.MatMul(n, k),
        ["Pad"] = (i, n, k) => i.Pad(n, k),
        ["LayerNormalization"] = (i, n, k) => i.LayerNorm(n, k),
        ["Identity"] = (i, n, _) => i.Alias(n.Output[0], i.Value(n, 0)),
        ["Dropout"] = (i, n, _) => i.Dropout(n),
        ["Cast"] = (i, n, _) => i.Cast(n),
    };

    /// <summary>The op types the importer reads (besides the integer shape ops it folds: Shape, Gather, Constant...).</summary>
    internal static IReadOnlyList<string> SupportedOps { get; } =
        [.. Ops.Keys.Concat(["Constant", "Shape", "Gather", "ConstantOfShape"]).OrderBy(k => k, StringComparer.Ordinal)];

    /// <summary>The graph value read at input <paramref name="index"/> (not a constant).</summary>
    private string Value(NodeProto node, int index)
    {
        string name = InputName(node, index, "input");
        if (IsConstant(name)) throw Unsupported(node, $"its input '{name}' is a constant where a computed value is expected");
        string resolved = Resolve(name);
        return ShapeOf(resolved) is null
            ? throw Unsupported(node, $"its input '{name}' is not produced by any node the importer read")
            : resolved;
    }

    private void Conv(NodeProto node, int index)
    {
        string name = NodeName(node, index);
        var weight = Weight(node, 1, "weight");
        var bias = OptionalWeight(node, 2, "bias");
        if (weight.Dims.Length != 4) throw Unsupported(node, $"its weight has shape {ShapeText.Format(weight.Dims)}; only 2-d convolutions are supported");
        if (OnnxAttributes.String(node, "auto_pad", "NOTSET") is not ("NOTSET" or "VALID"))
            throw Unsupported(node, "auto_pad SAME_UPPER/SAME_LOWER is not supported; export with explicit pads");
        int stride = Square(node, OnnxAttributes.Ints(node, "strides", 2, 1), "strides");
        int dilation = Square(node, OnnxAttributes.Ints(node, "dilations", 2, 1), "dilations");
        int padding = Symmetric(node, OnnxAttributes.Ints(node, "pads", 4, 0));
        int groups = (int)OnnxAttributes.Int(node, "group", 1);
        string input = Value(node, 0);
        if (bias is not null && (bias.Dims.Length != 1 || bias.Dims[0] != weight.Dims[0]))
            throw Unsupported(node, $"its bias has shape {ShapeText.Format(bias.Dims)}, not [{weight.Dims[0]}]");
        string prefix = ClaimPrefix(weight.Source, ".weight", name);
        AddState(prefix + ".weight", weight.Dims, weight);
        if (bias is not null) AddState(prefix + ".bias", bias.Dims, bias);
        // One filter per channel (weight [C, 1, kH, kW], C groups): a depthwise convolution, whose group count follows
        // its channels when they are pruned.
        bool depthwise = groups > 1 && weight.Dims[1] == 1 && weight.Dims[0] == groups;
        Emit(new ConvNode(name, input, node.Output[0], prefix, stride, padding, dilation, groups, bias is not null, depthwise));
    }

    private void BatchNorm(NodeProto node, int index)
    {
        if (node.Output.Skip(1).Any(o => o.Length > 0) || OnnxAttributes.Int(node, "training_mode", 0) != 0)
            throw Unsupported(node, "a BatchNormalization in training mode (with running statistics outputs) is not supported; export in eval mode");
        string name = NodeName(node, index);
        string input = Value(node, 0);
        var scale = Weight(node, 1, "scale");
        var bias = Weight(node, 2, "bias");
        var mean = Weight(node, 3, "running mean");
        var variance = Weight(node, 4, "running variance");
        long channels = scale.Dims.Length == 1 ? scale.Dims[0] : -1;
        if (new[] { scale, bias, mean, variance }.Any(t => t.Dims.Length != 1 || t.Dims[0] != channels))
            throw Unsupported(node, "its scale, bias, mean and variance are not vectors of the same length");
        string prefix = ClaimPrefix(scale.Source, ".weight", name);
        AddState(prefix + ".weight", [channels], scale);
        AddState(prefix + ".bias", [channels], bias);
        AddState(prefix + ".running_mean", [channels], mean);
        AddState(prefix + ".running_var", [channels], variance);
        AddStateShape(prefix + ".num_batches_tracked", []);
        Emit(new BatchNormNode(name, input, node.Output[0], prefix, OnnxAttributes.Float(node, "epsilon", 1e-5f)));
    }

    private void Clip(NodeProto node, int index)
    {
        float min = float.NegativeInfinity, max = float.PositiveInfinity;
        if (Opset < 11)
        {
            min = OnnxAttributes.Float(node, "min", min);
            max = OnnxAttributes.Float(node, "max", max);
        }
        else
        {
            if (OptionalWeight(node, 1, "minimum") is { } lo) min = ScalarOf(node, lo, "minimum");
            if (OptionalWeight(node, 2, "maximum") is { } hi) max = ScalarOf(node, hi, "maximum");
        }
        string name = NodeName(node, index);
        if (min == 0 && float.IsPositiveInfinity(max)) Emit(new ReluNode(name, Value(node, 0), node.Output[0]));
        else Emit(new ActivationNode(name, Value(node, 0), node.Output[0], Activation.Clip, min, max));
    }

    private void Activate(NodeProto node, int index, Activation function, float alpha = 0, float beta = 0) =>
        Emit(new ActivationNode(NodeName(node, index), Value(node, 0), node.Output[0], function, alpha, beta));

    private void Gelu(NodeProto node, int index)
    {
        if (OnnxAttributes.String(node, "approximate", "none") != "none")
            throw Unsupported(node, "only the exact (erf) GELU is supported");
        Activate(node, index, Activation.Gelu);
    }

    private void Binary(NodeProto node, int index, BinaryOp op)
    {
        string name = NodeName(node, index);
        string a = node.Input[0], b = node.Input[1];
        bool aConst = IsFloatConstant(a), bConst = IsFloatConstant(b);
        if (aConst && bConst) throw Unsupported(node, "both operands are constants (should have been folded)");
        if (!aConst && !bConst)
        {
            string left = Value(node, 0), right = Value(node, 1);
            if (op == BinaryOp.Mul && TryFuseGate(left, right, node.Output[0])) return;
            if (op == BinaryOp.Add && ShapeOf(left)!.AsSpan().SequenceEqual(ShapeOf(right)))
                Emit(new AddNode(name, left, right, node.Output[0]));
            else
                Emit(new BinaryNode(name, [left, right], node.Output[0], op));
            return;
        }
        bool constantFirst = aConst;
        string value = Value(node, constantFirst ? 1 : 0);
        var constant = FloatConst(constantFirst ? a : b)!;
        if (constant.Count == 1)
        {
            float scalar = constant.Data[0];
            if (op == BinaryOp.Mul && scalar == 0.5f && TryFuseGelu(value, node.Output[0])) return;
            Emit(new BinaryNode(name, [value], node.Output[0], op, Scalar: scalar, ConstantFirst: constantFirst));
            return;
        }
        if (op == BinaryOp.Add && !constantFirst && TryAddBias(value, constant, node.Output[0])) return;
        string key = ClaimKey(constant.Source, name);
        AddState(key, constant.Dims, constant);
        // The Sub/Div of an artifact's embedded preprocessing hold the contract, not weights: not trained.
        bool trainable = !constant.Source.StartsWith("preprocess.", StringComparison.Ordinal);
        Emit(new BinaryNode(name, [value], node.Output[0], op, ConstantKey: key, ConstantFirst: constantFirst, Trainable: trainable));
    }

    /// <summary><c>x * Sigmoid(x)</c> is SiLU, <c>x * HardSigmoid(x)</c> (1/6, 0.5) is HardSwish: the gate node becomes
    /// the fused one, writing the product.</summary>
    private bool TryFuseGate(string left, string right, string output)
    {
        foreach (var (x, gate) in new[] { (left, right), (right, left) })
        {
            if (Producer(gate) is not ActivationNode activation || activation.Input != x || _readers.GetValueOrDefault(gate) != 1) continue;
            Activation? fused = activation.Function switch
            {
                Activation.Sigmoid => Activation.Silu,
                Activation.HardSigmoid when Math.Abs(activation.Alpha - (1f / 6)) < 1e-6 && activation.Beta == 0.5f => Activation.HardSwish,
                _ => null,
            };
            if (fused is null) continue;
            Replace(activation, activation with { Function = fused.Value, Output = output, Alpha = 0, Beta = 0 });
            return true;
        }
        return false;
    }

    /// <summary><c>(x * (Erf(x / sqrt 2) + 1)) * 0.5</c>, as PyTorch writes exact GELU before opset 20, becomes one GELU.</summary>
    private bool TryFuseGelu(string product, string output)
    {
        if (Producer(product) is not BinaryNode { Op: BinaryOp.Mul, Inputs.Count: 2 } mul || _readers.GetValueOrDefault(product) != 1) return false;
        foreach (var (x, sum) in new[] { (mul.Inputs[0], mul.Inputs[1]), (mul.Inputs[1], mul.Inputs[0]) })
        {
            if (Producer(sum) is not BinaryNode { Op: BinaryOp.Add, Scalar: 1f } add || _readers.GetValueOrDefault(sum) != 1) continue;
            if (Producer(add.Inputs[0]) is not ActivationNode { Function: Activation.Erf } erf || _readers.GetValueOrDefault(add.Inputs[0]) != 1) continue;
            if (Producer(erf.Input) is not BinaryNode { Op: BinaryOp.Div, Scalar: float divisor } div || div.Inputs[0] != x ||
                Math.Abs(divisor - MathF.Sqrt(2)) > 1e-5 || _readers.GetValueOrDefault(erf.Input) != 1) continue;
            foreach (var node in new GraphNode[] { div, erf, add }) Remove(node);
            Replace(mul, new ActivationNode(mul.Name, x, output, Activation.Gelu));
            return true;
        }
        return false;
    }

    /// <summary>Reshape to <c>[g, C/g, H, W]</c>, Transpose <c>[0, 2, 1, 3, 4]</c>, Reshape back to <c>[C, H, W]</c> is a
    /// channel shuffle (ShuffleNet): the first two nodes become one <see cref="ChannelShuffleNode"/>.</summary>
    private bool TryFuseChannelShuffle(string input, long[] target, string name, string output)
    {
        if (target.Length != 3 || Producer(input) is not TransposeNode transpose || !transpose.Permutation.SequenceEqual([0, 2, 1, 3, 4]) ||
            _readers.GetValueOrDefault(input) != 1) return false;
        if (Producer(transpose.Input) is not ReshapeNode grouped || grouped.Shape.Count != 4 || _readers.GetValueOrDefault(transpose.Input) != 1)
            return false;
        var source = ShapeOf(grouped.Input);
        if (source is null || !source.AsSpan().SequenceEqual(target) || grouped.Shape[0] * grouped.Shape[1] != target[0] ||
            grouped.Shape[2] != target[1] || grouped.Shape[3] != target[2]) return false;
        Remove(grouped);
        Replace(transpose, new ChannelShuffleNode(name, grouped.Input, output, (int)grouped.Shape[0]));
        return true;
    }

    /// <summary>A bias vector added right after a bias-less linear layer (MatMul + Add) joins that layer.</summary>
    private bool TryAddBias(string value, FloatConstant bias, string output)
    {
        if (Producer(value) is not LinearNode { HasBias: false } linear || _readers.GetValueOrDefault(value) != 1) return false;
        long outFeatures = _stateShapes[linear.Module + ".weight"][0];
        if (bias.Count != outFeatures || bias.Dims.Length != 1) return false;
        AddState(linear.Module + ".bias", [outFeatures], bias);
        Replace(linear, linear with { HasBias = true, Output = output });
        return true;
    }

    private void Remove(GraphNode node)
    {
        _nodes.Remove(node);
        _producers.Remove(node.Output);
        _shapes.Remove(node.Output);
    }

    private void Pool(NodeProto node, int index, bool max)
    {
        string name = NodeName(node, index);
        if (node.Output.Count > 1 && node.Output[1].Length > 0) throw Unsupported(node, "MaxPool's indices output is not supported");
        if (OnnxAttributes.String(node, "auto_pad", "NOTSET") is not ("NOTSET" or "VALID"))
            throw Unsupported(node, "auto_pad SAME_UPPER/SAME_LOWER is not supported; export with explicit pads");
        var kernel = OnnxAttributes.Ints(node, "kernel_shape", 2, 1);
        if (kernel.Length != 2) throw Unsupported(node, "only 2-d pooling is supported");
        int k = Square(node, kernel, "kernel_shape");
        int stride = Square(node, OnnxAttributes.Ints(node, "strides", 2, 1), "strides");
        int padding = Symmetric(node, OnnxAttributes.Ints(node, "pads", 4, 0));
        if (OnnxAttributes.Ints(node, "dilations", 2, 1).Any(d => d != 1)) throw Unsupported(node, "dilated pooling is not supported");
        bool ceil = OnnxAttributes.Int(node, "ceil_mode", 0) != 0;
        string input = Value(node, 0);
        if (max) Emit(new MaxPoolNode(name, input, node.Output[0], k, stride, padding, ceil));
        else Emit(new AveragePoolNode(name, input, node.Output[0], k, stride, padding, ceil, OnnxAttributes.Int(node, "count_include_pad", 0) != 0));
    }

    private void ReduceMean(NodeProto node, int index)
    {
        string name = NodeName(node, index);
        string input = Value(node, 0);
        int rank = ShapeOf(input)!.Length + 1;
        long[] axes = Opset >= 18
            ? (node.Input.Count > 1 && node.Input[1].Length > 0 ? Ints(node, 1, "axes").Data : [])
            : OnnxAttributes.Find(node, "axes") is { } attribute ? [.. attribute.Ints] : [];
        if (axes.Length == 0) throw Unsupported(node, "a mean over every axis (including the batch) is not supported");
        var normalized = axes.Select(a => (int)(a < 0 ? a + rank : a)).Distinct().Order().ToList();
        if (normalized.Any(a => a < 1 || a >= rank)) throw Unsupported(node, "a mean over the batch axis is not supported");
        bool keep = OnnxAttributes.Int(node, "keepdims", 1) != 0;
        if (rank == 4 && normalized.SequenceEqual([2, 3]))
        {
            if (keep)
            {
                Emit(new GlobalAveragePoolNode(name, input, node.Output[0]));
            }
            else
            {
                Emit(new GlobalAveragePoolNode(name, input, name + "/pooled"));
                Emit(new FlattenNode(name + "/flatten", name + "/pooled", node.Output[0]));
            }
            return;
        }
        Emit(new ReduceMeanNode(name, input, node.Output[0], normalized, keep));
    }

    private void Flatten(NodeProto node, int index)
    {
        string input = Value(node, 0);
        long axis = OnnxAttributes.Int(node, "axis", 1);
        int rank = ShapeOf(input)!.Length + 1;
        if (axis < 0) axis += rank;
        if (axis != 1) throw Unsupported(node, $"Flatten with axis {axis} is not supported (only 1: keep the batch)");
        if (ShapeOf(input)!.Length == 1) Alias(node.Output[0], input);
        else Emit(new FlattenNode(NodeName(node, index), input, node.Output[0]));
    }

    /// <summary>A reshape of the batched value to <paramref name="target"/> (ONNX semantics: 0 copies, -1 infers);
    /// the batch must stay first.</summary>
    private void Reshape(NodeProto node, int index, long[] target)
    {
        string input = Value(node, 0);
        var shape = ShapeOf(input)!;
        long[] full = [Batch, .. shape];
        bool allowZero = OnnxAttributes.Int(node, "allowzero", 0) != 0;
        var resolved = new long[target.Length];
        int infer = -1;
        for (int d = 0; d < target.Length; d++)
        {
            long t = target[d];
            if (t == 0 && !allowZero)
            {
                if (d >= full.Length) throw Unsupported(node, "its target copies an axis the input does not have");
                resolved[d] = full[d];
            }
            else if (t == -1)
            {
                if (infer >= 0) throw Unsupported(node, "its target has two -1 entries");
                infer = d;
            }
            else
            {
                resolved[d] = t;
            }
        }
        long elements = ShapeContext.Product(shape);
        if (resolved.Length == 0) throw Unsupported(node, "a reshape to a scalar is not supported");
        if (infer == 0)
        {
            long known = ShapeContext.Product(resolved.Skip(1));
            if (known == 0 || elements % known != 0) throw Unsupported(node, $"its target {Text(target)} does not fit {Text(full)}");
            resolved[0] = Batch;
        }
        else if (resolved[0] != Batch && resolved[0] != _fixedBatch)
        {
            throw Unsupported(node, $"its target {Text(target)} does not keep the batch axis first");
        }
        long[] perImage = resolved[1..];
        if (infer > 0)
        {
            long known = ShapeContext.Product(perImage.Where((_, d) => d + 1 != infer));
            if (known == 0 || elements % known != 0) throw Unsupported(node, $"its target {Text(target)} does not fit {Text(full)}");
            perImage[infer - 1] = elements / known;
        }
        if (ShapeContext.Product(perImage) != elements) throw Unsupported(node, $"its target {Text(target)} does not fit {Text(full)}");
        string name = NodeName(node, index);
        if (perImage.AsSpan().SequenceEqual(shape)) Alias(node.Output[0], input);
        else if (perImage.Length == 1) Emit(new FlattenNode(name, input, node.Output[0]));
        else if (!TryFuseChannelShuffle(input, perImage, name, node.Output[0])) Emit(new ReshapeNode(name, input, node.Output[0], perImage));
    }

    private void Squeeze(NodeProto node, int index, bool unsqueeze)
    {
        string input = Value(node, 0);
        var shape = ShapeOf(input)!;
        long[] axes = Opset >= 13
            ? (node.Input.Count > 1 && node.Input[1].Length > 0 ? Ints(node, 1, "axes").Data : [])
            : OnnxAttributes.Find(node, "axes") is { } attribute ? [.. attribute.Ints] : [];
        var full = new List<long> { Batch };
        full.AddRange(shape);
        if (unsqueeze)
        {
            int rank = full.Count + axes.Length;
            foreach (long axis in axes.Select(a => a < 0 ? a + rank : a).Order())
            {
                if (axis < 1 || axis > full.Count) throw Unsupported(node, "it would insert an axis before the batch");
                full.Insert((int)axis, 1);
            }
        }
        else
        {
            int rank = full.Count;
            var drop = axes.Length == 0
                ? Enumerable.Range(1, shape.Length).Where(d => full[d] == 1).Select(d => (long)d).ToList()
                : axes.Select(a => a < 0 ? a + rank : a).ToList();
            if (drop.Any(a => a < 1 || a >= rank || full[(int)a] != 1)) throw Unsupported(node, "it would squeeze the batch or an axis longer than 1");
            full = full.Where((_, d) => !drop.Contains(d)).ToList();
        }
        Reshape(node, index, [0, .. full.Skip(1)]);
    }

    private void Transpose(NodeProto node, int index)
    {
        string input = Value(node, 0);
        int rank = ShapeOf(input)!.Length + 1;
        long[] perm = OnnxAttributes.Find(node, "perm") is { } attribute ? [.. attribute.Ints] : Enumerable.Range(0, rank).Reverse().Select(d => (long)d).ToArray();
        if (perm.Length != rank || perm[0] != 0) throw Unsupported(node, $"its permutation {Text(perm)} moves the batch axis");
        Emit(new TransposeNode(NodeName(node, index), input, node.Output[0], perm.Select(p => (int)p).ToList()));
    }

    private void Concat(NodeProto node, int index)
    {
        var inputs = Enumerable.Range(0, node.Input.Count).Select(i => Value(node, i)).ToList();
        int rank = ShapeOf(inputs[0])!.Length + 1;
        long axis = OnnxAttributes.Int(node, "axis", 1);
        if (axis < 0) axis += rank;
        if (axis < 1 || axis >= rank) throw Unsupported(node, "a concatenation along the batch axis is not supported");
        Emit(new ConcatNode(NodeName(node, index), inputs, node.Output[0], (int)axis));
    }

    private void Split(NodeProto node, int index)
    {
        string input = Value(node, 0);
        var shape = ShapeOf(input)!;
        int rank = shape.Length + 1;
        long axis = OnnxAttributes.Int(node, "axis", 0);
        if (axis < 0) axis += rank;
        if (axis < 1 || axis >= rank) throw Unsupported(node, "a split along the batch axis is not supported");
        long length = shape[axis - 1];
        long[] sizes = Opset >= 13
            ? (node.Input.Count > 1 && node.Input[1].Length > 0 ? Ints(node, 1, "split").Data : [])
            : OnnxAttributes.Find(node, "split") is { } attribute ? [.. attribute.Ints] : [];
        if (sizes.Length == 0)
        {
            int parts = node.Output.Count;
            long size = (length + parts - 1) / parts;
            sizes = Enumerable.Range(0, parts).Select(p => Math.Min(size, length - (p * size))).ToArray();
        }
        if (sizes.Length != node.Output.Count || sizes.Sum() != length || sizes.Any(s => s < 1))
            throw Unsupported(node, $"its sizes {Text(sizes)} do not split {length} into {node.Output.Count} parts");
        string name = NodeName(node, index);
        long start = 0;
        for (int o = 0; o < sizes.Length; o++)
        {
            if (node.Output[o].Length > 0)
                Emit(new SliceNode(o == 0 ? name : name + "/" + o, input, node.Output[o], (int)axis, start, start + sizes[o]));
            start += sizes[o];
        }
    }

    private void Slice(NodeProto node, int index)
    {
        string input = Value(node, 0);
        var shape = ShapeOf(input)!;
        int rank = shape.Length + 1;
        long[] starts = Ints(node, 1, "starts").Data, ends = Ints(node, 2, "ends").Data;
        long[] axes = node.Input.Count > 3 && node.Input[3].Length > 0 ? Ints(node, 3, "axes").Data : Enumerable.Range(0, starts.Length).Select(a => (long)a).ToArray();
        long[] steps = node.Input.Count > 4 && node.Input[4].Length > 0 ? Ints(node, 4, "steps").Data : Enumerable.Repeat(1L, starts.Length).ToArray();
        if (starts.Length != 1 || steps[0] != 1) throw Unsupported(node, "only a slice of one axis with step 1 is supported");
        long axis = axes[0] < 0 ? axes[0] + rank : axes[0];
        if (axis < 1 || axis >= rank) throw Unsupported(node, "a slice of the batch axis is not supported");
        long length = shape[axis - 1];
        long Clamp(long v) => Math.Clamp(v < 0 ? v + length : v, 0, length);
        long start = Clamp(starts[0]), end = Clamp(ends[0]);
        if (start == 0 && end == length) Alias(node.Output[0], input);
        else Emit(new SliceNode(NodeName(node, index), input, node.Output[0], (int)axis, start, end));
    }

    private void Gemm(NodeProto node, int index)
    {
        string input = Value(node, 0);
        if (ShapeOf(input)!.Length != 1) throw Unsupported(node, "Gemm reads a value that is not [batch, features]");
        if (OnnxAttributes.Int(node, "transA", 0) != 0) throw Unsupported(node, "transA = 1 is not supported");
        var b = Weight(node, 1, "weight");
        var c = OptionalWeight(node, 2, "bias");
        float alpha = OnnxAttributes.Float(node, "alpha", 1), beta = OnnxAttributes.Float(node, "beta", 1);
        bool transB = OnnxAttributes.Int(node, "transB", 0) != 0;
        if (b.Dims.Length != 2) throw Unsupported(node, $"its weight has shape {ShapeText.Format(b.Dims)}, not 2-d");
        var weight = transB ? b : Transposed(b);
        if (alpha != 1) weight = weight with { Data = weight.Data.Select(v => v * alpha).ToArray(), Source = weight.Source + $" x {alpha}" };
        long outFeatures = weight.Dims[0];
        if (c is not null && c.Count != outFeatures) throw Unsupported(node, $"its bias has {c.Count} values, not one per output ({outFeatures})");
        string name = NodeName(node, index);
        string prefix = ClaimPrefix(b.Source, ".weight", name);
        AddState(prefix + ".weight", weight.Dims, weight);
        if (c is not null) AddState(prefix + ".bias", [outFeatures], beta == 1 ? c.Data : c.Data.Select(v => v * beta).ToArray(), c.Source);
        Emit(new LinearNode(name, input, node.Output[0], prefix, c is not null));
    }

    private void MatMul(NodeProto node, int index)
    {
        string input = Value(node, 0);
        var b = Weight(node, 1, "weight");
        if (b.Dims.Length != 2) throw Unsupported(node, "only a product with a constant 2-d matrix (a linear layer) is supported");
        string name = NodeName(node, index);
        var weight = Transposed(b);
        string prefix = ClaimPrefix(b.Source, ".weight", name);
        AddState(prefix + ".weight", weight.Dims, weight);
        Emit(new LinearNode(name, input, node.Output[0], prefix, HasBias: false));
    }

    private void Pad(NodeProto node, int index)
    {
        string input = Value(node, 0);
        if (OnnxAttributes.String(node, "mode", "constant") != "constant") throw Unsupported(node, "only constant padding is supported");
        long[] pads = Opset >= 11 ? Ints(node, 1, "pads").Data : OnnxAttributes.Ints(node, "pads", 8, 0);
        float value = Opset >= 11 && node.Input.Count > 2 && node.Input[2].Length > 0 ? ScalarOf(node, Weight(node, 2, "value"), "value") : 0;
        if (node.Input.Count > 3 && node.Input[3].Length > 0) throw Unsupported(node, "Pad with axes is not supported");
        if (pads.All(p => p == 0))
        {
            Alias(node.Output[0], input);
            return;
        }
        if (pads.Length != 8 || pads[0] != 0 || pads[1] != 0 || pads[4] != 0 || pads[5] != 0 || pads.Any(p => p < 0))
            throw Unsupported(node, $"only non-negative padding of height and width is supported (pads {Text(pads)})");
        Emit(new PadNode(NodeName(node, index), input, node.Output[0], (int)pads[2], (int)pads[3], (int)pads[6], (int)pads[7], value));
    }

    private void LayerNorm(NodeProto node, int index)
    {
        string input = Value(node, 0);
        int rank = ShapeOf(input)!.Length + 1;
        long axis = OnnxAttributes.Int(node, "axis", -1);
        if (axis < 0) axis += rank;
        if (axis != rank - 1) throw Unsupported(node, "only a LayerNorm over the last axis is supported");
        var scale = Weight(node, 1, "scale");
        var bias = OptionalWeight(node, 2, "bias");
        long channels = ShapeOf(input)![^1];
        if (scale.Count != channels || (bias is not null && bias.Count != channels))
            throw Unsupported(node, "its scale and bias are not vectors over the last axis");
        string name = NodeName(node, index);
        string prefix = ClaimPrefix(scale.Source, ".weight", name);
        AddState(prefix + ".weight", [channels], scale);
        AddState(prefix + ".bias", [channels], bias?.Data ?? new float[channels], bias?.Source ?? "(zeros: the file has no bias)");
        Emit(new LayerNormNode(name, input, node.Output[0], prefix, OnnxAttributes.Float(node, "epsilon", 1e-5f)));
    }

    private void Dropout(NodeProto node)
    {
        if (node.Output.Count > 1 && node.Output[1].Length > 0 && Readers(node.Output[1]) > 0)
            throw Unsupported(node, "its mask output is read");
        Alias(node.Output[0], Value(node, 0));
    }

    private void Cast(NodeProto node)
    {
        if (OnnxAttributes.Int(node, "to", 0) != (long)TensorProto.Types.DataType.Float)
            throw Unsupported(node, "a cast of a computed value to a type other than float32 is not supported");
        Alias(node.Output[0], Value(node, 0));
    }

    // ---- helpers ----------------------------------------------------------------------------------------------------

    /// <summary>The batch size a file with a fixed batch declares (1 for most), accepted where the batch should be.</summary>
    private long _fixedBatch = Batch;

    private float ScalarOf(NodeProto node, FloatConstant constant, string role) =>
        constant.Count == 1 ? constant.Data[0] : throw Unsupported(node, $"its {role} is not a single number");

    private int Square(NodeProto node, long[] values, string attribute) =>
        values.Length == 2 && values[0] == values[1] ? (int)values[0]
            : throw Unsupported(node, $"its {attribute} {Text(values)} differ between height and width; only square ones are supported");

    private int Symmetric(NodeProto node, long[] pads) =>
        pads.Length == 4 && pads.All(p => p == pads[0]) ? (int)pads[0]
            : throw Unsupported(node, $"its pads {Text(pads)} are not the same on every side; only symmetric padding is supported");

    private static FloatConstant Transposed(FloatConstant matrix)
    {
        long rows = matrix.Dims[0], columns = matrix.Dims[1];
        var data = new float[matrix.Data.Length];
        for (long r = 0; r < rows; r++)
            for (long c = 0; c < columns; c++) data[(c * rows) + r] = matrix.Data[(r * columns) + c];
        return new FloatConstant([columns, rows], data, matrix.Source + " (transposed)");
    }

    private static string Text(IEnumerable<long> values) =>
        "[" + string.Join(", ", values.Select(v => v == Batch ? "batch" : v.ToString(System.Globalization.CultureInfo.InvariantCulture))) + "]";
}

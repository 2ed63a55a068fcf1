using System.Globalization;
using System.Runtime.InteropServices;
using Compress.Engine.Diagnostics;
using Compress.Engine.Models.Graph;
using Google.Protobuf;
using Onnx;
using static TorchSharp.torch;

namespace Compress.Engine.Export;

/// <summary>
/// Builds the ONNX nodes and initializers of <see cref="OnnxExporter"/> one graph node at a time, reading weights from
/// a state dict (tensors are copied to the CPU; the model's own tensors are not changed).
/// </summary>
internal sealed class GraphWriter(string architecture, IReadOnlyDictionary<string, Tensor> state, int opset,
    IReadOnlyDictionary<string, long[]> valueShapes)
{
    private readonly HashSet<string> _initializers = new(StringComparer.Ordinal);

    public GraphProto Graph { get; } = new();

    /// <summary>The opset written (lowerings differ where ONNX changed an op).</summary>
    public int Opset { get; } = opset;

    /// <summary>The per-image shape of graph value <paramref name="name"/>.</summary>
    public long[] ValueShape(string name) => valueShapes.TryGetValue(name, out var shape)
        ? shape
        : throw new InvalidOperationException($"No shape for value '{name}'.");

    /// <summary>A float32 scalar initializer called <paramref name="name"/>; returns the name.</summary>
    public string Scalar(string name, float value)
    {
        AddInitializer(name, [value], []);
        return name;
    }

    /// <summary>An int64 initializer (a shape, axes, pads) called <paramref name="name"/>; returns the name.</summary>
    public string Int64s(string name, long[] values)
    {
        if (!_initializers.Add(name)) return name;
        var tensor = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Int64 };
        tensor.Dims.Add(values.Length);
        tensor.Int64Data.AddRange(values);
        Graph.Initializer.Add(tensor);
        return name;
    }

    private readonly Dictionary<ConvNode, BatchNormNode> _folded = [];
    private readonly HashSet<BatchNormNode> _foldedBatchNorms = [];

    /// <summary>Folds <paramref name="bn"/> into <paramref name="conv"/>: the convolution writes the folded weights and
    /// the BatchNorm's output; the BatchNorm writes nothing.</summary>
    public void FoldBatchNorm(ConvNode conv, BatchNormNode bn)
    {
        _folded[conv] = bn;
        _foldedBatchNorms.Add(bn);
    }

    /// <summary>The BatchNorm folded into <paramref name="conv"/>, or null.</summary>
    public BatchNormNode? FoldedInto(ConvNode conv) => _folded.GetValueOrDefault(conv);

    /// <summary>Whether <paramref name="bn"/> was folded into its convolution.</summary>
    public bool IsFolded(BatchNormNode bn) => _foldedBatchNorms.Contains(bn);

    /// <summary>Folds <paramref name="bn"/> into <paramref name="conv"/> in float64, rounding once to float32.</summary>
    public (float[] Weight, float[] Bias) Fold(ConvNode conv, BatchNormNode bn, int outChannels)
    {
        double[] w = Doubles(conv.Module + ".weight", conv.Name);
        double[] b = conv.HasBias ? Doubles(conv.Module + ".bias", conv.Name, outChannels) : new double[outChannels];
        double[] gamma = Doubles(bn.Module + ".weight", bn.Name, outChannels);
        double[] beta = Doubles(bn.Module + ".bias", bn.Name, outChannels);
        double[] mean = Doubles(bn.Module + ".running_mean", bn.Name, outChannels);
        double[] variance = Doubles(bn.Module + ".running_var", bn.Name, outChannels);
        int perChannel = w.Length / outChannels;
        var weight = new float[w.Length];
        var bias = new float[outChannels];
        for (int o = 0; o < outChannels; o++)
        {
            double scale = gamma[o] / Math.Sqrt(variance[o] + bn.Epsilon);
            for (int i = o * perChannel; i < (o + 1) * perChannel; i++) weight[i] = (float)(w[i] * scale);
            bias[o] = (float)((b[o] - mean[o]) * scale + beta[o]);
        }
        // Finite weights and statistics can still fold to values beyond float32 (weights near 1e36 after a diverged
        // fine-tune): named here, with the numbers, not later as an invalid graph "from an exporter bug".
        int bad = Array.FindIndex(weight, v => !float.IsFinite(v));
        if (bad >= 0 || Array.FindIndex(bias, v => !float.IsFinite(v)) >= 0)
        {
            double largest = w.Concat(b).Select(Math.Abs).Max();
            double largestScale = Enumerable.Range(0, outChannels).Select(o => Math.Abs(gamma[o] / Math.Sqrt(variance[o] + bn.Epsilon))).Max();
            throw new CompressException(DiagnosticCode.NonFiniteWeights, string.Create(CultureInfo.InvariantCulture,
                $"Folding BatchNorm '{bn.Module}' into '{conv.Module}' gives weights beyond float32 (largest |weight| {largest:G3}, largest gamma/sqrt(var + eps) {largestScale:G3}): the model's weights are out of range."),
                hint: "Weights this large come from a diverged training run: lower the learning rate (--finetune-lr when fine-tuning, --lr when training) or retrain the checkpoint.");
        }
        return (weight, bias);
    }

    public NodeProto Node(string opType, string name, IEnumerable<string> inputs, string output)
    {
        var node = new NodeProto { OpType = opType, Name = name };
        node.Input.AddRange(inputs);
        node.Output.Add(output);
        Graph.Node.Add(node);
        return node;
    }

    public void AddInitializer(string name, float[] values, long[] dims)
    {
        if (!_initializers.Add(name)) return; // one tensor read by several nodes is written once
        var tensor = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float };
        tensor.Dims.AddRange(dims);
        byte[] bytes = MemoryMarshal.AsBytes(values.AsSpan()).ToArray();
        if (!BitConverter.IsLittleEndian)
            for (int i = 0; i < bytes.Length; i += 4) Array.Reverse(bytes, i, 4);
        tensor.RawData = ByteString.CopyFrom(bytes);
        Graph.Initializer.Add(tensor);
    }

    private Tensor Get(string key, string node) => state.TryGetValue(key, out var tensor)
        ? tensor
        : throw Unsupported(node, $"the model has no tensor '{key}'");

    public long[] Shape(string key, string node) => Get(key, node).shape;

    public float[] Floats(string key, string node, int? expectedLength = null)
    {
        float[] values;
        using (NewDisposeScope())
            values = Get(key, node).detach().to(ScalarType.Float32, CPU).contiguous().data<float>().ToArray();
        CheckLength(key, node, values.Length, expectedLength);
        return values;
    }

    private double[] Doubles(string key, string node, int? expectedLength = null)
    {
        double[] values;
        using (NewDisposeScope())
            values = Get(key, node).detach().to(ScalarType.Float64, CPU).contiguous().data<double>().ToArray();
        CheckLength(key, node, values.Length, expectedLength);
        return values;
    }

    private void CheckLength(string key, string node, int length, int? expected)
    {
        if (expected is int n && length != n)
            throw Unsupported(node, $"tensor '{key}' has {length.ToString(CultureInfo.InvariantCulture)} values, expected {n.ToString(CultureInfo.InvariantCulture)} (one per output channel)");
    }

    /// <summary>CMP0501 naming <paramref name="node"/> and what is wrong with it.</summary>
    public CompressException Unsupported(GraphNode node, string problem) => Unsupported(node.Name, problem);

    private CompressException Unsupported(string node, string problem) => new(DiagnosticCode.UnsupportedExportNode,
        $"{architecture}: cannot export graph node '{node}': {problem}.",
        hint: "The graph description and the model's modules disagree; export a built-in architecture.");

    /// <summary>A float attribute.</summary>
    public static AttributeProto Float(string name, float value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value };

    /// <summary>An int attribute.</summary>
    public static AttributeProto Int(string name, long value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    /// <summary>An ints attribute.</summary>
    public static AttributeProto Ints(string name, params long[] values)
    {
        var attribute = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        attribute.Ints.AddRange(values);
        return attribute;
    }

}

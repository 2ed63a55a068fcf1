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
internal sealed class GraphWriter(string architecture, IReadOnlyDictionary<string, Tensor> state)
{
    public GraphProto Graph { get; } = new();

    public void Conv(ConvNode conv, BatchNormNode? foldedBatchNorm)
    {
        var weightShape = Shape(conv.Module + ".weight", conv.Name);
        if (weightShape.Length != 4)
            throw Unsupported(conv.Name, $"weight '{conv.Module}.weight' has shape {Text(weightShape)}, not [out, in, kH, kW]");
        if (conv.Stride < 1 || conv.Padding < 0 || conv.Dilation < 1 || conv.Groups < 1)
            throw Unsupported(conv.Name, "stride, dilation and groups must be >= 1 and padding >= 0");
        int outChannels = checked((int)weightShape[0]);
        var inputs = new List<string> { conv.Input, conv.Module + ".weight" };
        string output = conv.Output;
        if (foldedBatchNorm is null)
        {
            AddInitializer(conv.Module + ".weight", Floats(conv.Module + ".weight", conv.Name), weightShape);
            if (conv.HasBias)
            {
                AddInitializer(conv.Module + ".bias", Floats(conv.Module + ".bias", conv.Name, outChannels), [outChannels]);
                inputs.Add(conv.Module + ".bias");
            }
        }
        else
        {
            var (weight, bias) = Fold(conv, foldedBatchNorm, outChannels);
            AddInitializer(conv.Module + ".weight", weight, weightShape);
            AddInitializer(conv.Module + ".bias", bias, [outChannels]);
            inputs.Add(conv.Module + ".bias");
            output = foldedBatchNorm.Output;
        }

        var node = Node("Conv", conv.Name, inputs, output);
        node.Attribute.Add(Ints("dilations", conv.Dilation, conv.Dilation));
        node.Attribute.Add(Int("group", conv.Groups));
        node.Attribute.Add(Ints("kernel_shape", weightShape[2], weightShape[3]));
        node.Attribute.Add(Ints("pads", conv.Padding, conv.Padding, conv.Padding, conv.Padding));
        node.Attribute.Add(Ints("strides", conv.Stride, conv.Stride));
    }

    public void BatchNorm(BatchNormNode bn)
    {
        string[] keys = ["weight", "bias", "running_mean", "running_var"];
        int channels = checked((int)Shape(bn.Module + ".running_mean", bn.Name)[0]);
        var inputs = new List<string> { bn.Input };
        foreach (string key in keys)
        {
            string name = bn.Module + "." + key;
            AddInitializer(name, Floats(name, bn.Name, channels), [channels]);
            inputs.Add(name);
        }
        var node = Node("BatchNormalization", bn.Name, inputs, bn.Output);
        node.Attribute.Add(new AttributeProto
        {
            Name = "epsilon", Type = AttributeProto.Types.AttributeType.Float, F = (float)bn.Epsilon,
        });
    }

    public void MaxPool(MaxPoolNode pool)
    {
        if (pool.Kernel < 1 || pool.Stride < 1 || pool.Padding < 0)
            throw Unsupported(pool.Name, "kernel and stride must be >= 1 and padding >= 0");
        var node = Node("MaxPool", pool.Name, [pool.Input], pool.Output);
        node.Attribute.Add(Ints("kernel_shape", pool.Kernel, pool.Kernel));
        node.Attribute.Add(Ints("pads", pool.Padding, pool.Padding, pool.Padding, pool.Padding));
        node.Attribute.Add(Ints("strides", pool.Stride, pool.Stride));
    }

    public void Flatten(FlattenNode flatten) =>
        Node("Flatten", flatten.Name, [flatten.Input], flatten.Output).Attribute.Add(Int("axis", 1));

    public void Gemm(LinearNode linear)
    {
        var weightShape = Shape(linear.Module + ".weight", linear.Name);
        if (weightShape.Length != 2)
            throw Unsupported(linear.Name, $"weight '{linear.Module}.weight' has shape {Text(weightShape)}, not [out, in]");
        int outFeatures = checked((int)weightShape[0]);
        AddInitializer(linear.Module + ".weight", Floats(linear.Module + ".weight", linear.Name), weightShape);
        var inputs = new List<string> { linear.Input, linear.Module + ".weight" };
        if (linear.HasBias)
        {
            AddInitializer(linear.Module + ".bias", Floats(linear.Module + ".bias", linear.Name, outFeatures), [outFeatures]);
            inputs.Add(linear.Module + ".bias");
        }
        var node = Node("Gemm", linear.Name, inputs, linear.Output);
        node.Attribute.Add(Int("transB", 1));
    }

    /// <summary>An op with only inputs and one output (Relu, Add, GlobalAveragePool).</summary>
    public void Simple(string opType, GraphNode node) => Node(opType, node.Name, node.Inputs, node.Output);

    /// <summary>Folds <paramref name="bn"/> into <paramref name="conv"/> in float64, rounding once to float32.</summary>
    private (float[] Weight, float[] Bias) Fold(ConvNode conv, BatchNormNode bn, int outChannels)
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
        return (weight, bias);
    }

    private NodeProto Node(string opType, string name, IEnumerable<string> inputs, string output)
    {
        var node = new NodeProto { OpType = opType, Name = name };
        node.Input.AddRange(inputs);
        node.Output.Add(output);
        Graph.Node.Add(node);
        return node;
    }

    private void AddInitializer(string name, float[] values, long[] dims)
    {
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

    private long[] Shape(string key, string node) => Get(key, node).shape;

    private float[] Floats(string key, string node, int? expectedLength = null)
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

    private CompressException Unsupported(string node, string problem) => new(DiagnosticCode.UnsupportedExportNode,
        $"{architecture}: cannot export graph node '{node}': {problem}.",
        hint: "The graph description and the model's modules disagree; export a built-in architecture.");

    private static AttributeProto Int(string name, long value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    private static AttributeProto Ints(string name, params long[] values)
    {
        var attribute = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        attribute.Ints.AddRange(values);
        return attribute;
    }

    private static string Text(long[] shape) => "[" + string.Join(", ", shape.Select(d => d.ToString(CultureInfo.InvariantCulture))) + "]";
}

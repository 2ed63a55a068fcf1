using System.Runtime.InteropServices;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Onnx;

namespace Compress.Engine.Tests.Export;

/// <summary>
/// Builds small inference graphs in the exporter's style (opset 17, IR 8, input <c>input</c> [batch, C, H, W] with a
/// dim_param batch, initializers named after parameters, value_info for intermediate values) with seeded weights, and
/// runs them with ONNX Runtime.
/// </summary>
internal sealed class OnnxTestGraph
{
    private readonly GraphProto _graph = new() { Name = "test" };
    private readonly Random _rng;
    private readonly Dictionary<string, long[]> _shapes = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (long[] Dims, float[] Data)> _tensors = new(StringComparer.Ordinal);

    public OnnxTestGraph(int seed, int channels, int height, int width)
    {
        _rng = new Random(seed);
        _shapes["input"] = [channels, height, width];
        _graph.Input.Add(ValueInfo("input", _shapes["input"]));
    }

    public string Conv(string name, string input, int outChannels, int kernel, int pad = 0, int stride = 1, int group = 1, bool bias = true)
    {
        var x = _shapes[input];
        var inPerGroup = x[0] / group;
        AddTensor($"{name}.weight", [outChannels, inPerGroup, kernel, kernel], 1.0 / Math.Sqrt(inPerGroup * kernel * kernel));
        var node = Node("Conv", name, input, $"{name}.weight");
        if (bias)
        {
            AddTensor($"{name}.bias", [outChannels], 0.1);
            node.Input.Add($"{name}.bias");
        }
        node.Attribute.Add(Ints("kernel_shape", kernel, kernel));
        node.Attribute.Add(Ints("pads", pad, pad, pad, pad));
        node.Attribute.Add(Ints("strides", stride, stride));
        node.Attribute.Add(Ints("dilations", 1, 1));
        node.Attribute.Add(new AttributeProto { Name = "group", Type = AttributeProto.Types.AttributeType.Int, I = group });
        return Output(node, [outChannels, ((x[1] + (2 * pad) - kernel) / stride) + 1, ((x[2] + (2 * pad) - kernel) / stride) + 1]);
    }

    public string Relu(string input) => Output(Node("Relu", $"relu{_graph.Node.Count}", input), _shapes[input]);

    public string Sigmoid(string input) => Output(Node("Sigmoid", $"sigmoid{_graph.Node.Count}", input), _shapes[input]);

    public string MaxPool(string input, int kernel)
    {
        var node = Node("MaxPool", $"pool{_graph.Node.Count}", input);
        node.Attribute.Add(Ints("kernel_shape", kernel, kernel));
        node.Attribute.Add(Ints("strides", kernel, kernel));
        var x = _shapes[input];
        return Output(node, [x[0], x[1] / kernel, x[2] / kernel]);
    }

    public string GlobalAveragePool(string input) => Output(Node("GlobalAveragePool", $"gap{_graph.Node.Count}", input), [_shapes[input][0], 1, 1]);

    public string Flatten(string input)
    {
        var node = Node("Flatten", $"flatten{_graph.Node.Count}", input);
        node.Attribute.Add(new AttributeProto { Name = "axis", Type = AttributeProto.Types.AttributeType.Int, I = 1 });
        return Output(node, [_shapes[input].Aggregate(1L, (a, b) => a * b)]);
    }

    public string Add(string a, string b) => Output(Node("Add", $"add{_graph.Node.Count}", a, b), _shapes[a]);

    public string BatchNorm(string name, string input)
    {
        var c = (int)_shapes[input][0];
        AddTensor($"{name}.weight", [c], 1.0, offset: 1.0);
        AddTensor($"{name}.bias", [c], 0.2);
        AddTensor($"{name}.running_mean", [c], 0.2);
        AddTensor($"{name}.running_var", [c], 0.2, offset: 1.0);
        var node = Node("BatchNormalization", name, input, $"{name}.weight", $"{name}.bias", $"{name}.running_mean", $"{name}.running_var");
        node.Attribute.Add(new AttributeProto { Name = "epsilon", Type = AttributeProto.Types.AttributeType.Float, F = 1e-5f });
        return Output(node, _shapes[input]);
    }

    public string Gemm(string name, string input, int outFeatures, string? output = null)
    {
        var inFeatures = (int)_shapes[input][0];
        AddTensor($"{name}.weight", [outFeatures, inFeatures], 1.0 / Math.Sqrt(inFeatures));
        AddTensor($"{name}.bias", [outFeatures], 0.1);
        var node = Node("Gemm", name, input, $"{name}.weight", $"{name}.bias");
        node.Attribute.Add(new AttributeProto { Name = "transB", Type = AttributeProto.Types.AttributeType.Int, I = 1 });
        return Output(node, [outFeatures], output);
    }

    /// <summary>The float data of an initializer, editable until <see cref="Build"/>.</summary>
    public float[] Tensor(string name) => _tensors[name].Data;

    /// <summary>Zeros output channel <paramref name="channel"/> of a Conv (filter and bias; bias set to <paramref name="bias"/>).</summary>
    public void ZeroFilter(string conv, int channel, float bias = 0)
    {
        var (dims, w) = _tensors[$"{conv}.weight"];
        var size = (int)(dims[1] * dims[2] * dims[3]);
        Array.Clear(w, channel * size, size);
        if (_tensors.TryGetValue($"{conv}.bias", out var b))
            b.Data[channel] = bias;
    }

    public ModelProto Build(string output)
    {
        var graph = _graph.Clone();
        foreach (var (name, (dims, data)) in _tensors)
        {
            var t = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float, RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(data.AsSpan())) };
            t.Dims.Add(dims);
            graph.Initializer.Add(t);
        }
        foreach (var (name, shape) in _shapes)
        {
            if (name == output)
                graph.Output.Add(ValueInfo(name, shape));
            else if (name != "input")
                graph.ValueInfo.Add(ValueInfo(name, shape));
        }
        var model = new ModelProto { IrVersion = 8, ProducerName = "compress-tests", Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 17 });
        return model;
    }

    /// <summary>Runs <paramref name="model"/> with ONNX Runtime on <paramref name="input"/> [batch, C, H, W].</summary>
    public static float[] Run(ModelProto model, float[] input, int[] shape)
    {
        using var session = new InferenceSession(model.ToByteArray());
        using var value = OrtValue.CreateTensorValueFromMemory(input, [.. shape.Select(d => (long)d)]);
        using var options = new RunOptions();
        using var results = session.Run(options, ["input"], [value], [session.OutputMetadata.Keys.First()]);
        return results[0].GetTensorDataAsSpan<float>().ToArray();
    }

    public static float[] RandomInput(int seed, int count)
    {
        var rng = new Random(seed);
        return [.. Enumerable.Range(0, count).Select(_ => (float)((rng.NextDouble() * 2) - 1))];
    }

    private void AddTensor(string name, long[] dims, double scale, double offset = 0)
    {
        var n = (int)dims.Aggregate(1L, (a, b) => a * b);
        _tensors[name] = (dims, [.. Enumerable.Range(0, n).Select(_ => (float)(offset + (scale * ((_rng.NextDouble() * 2) - 1))))]);
    }

    private static NodeProto Node(string op, string name, params string[] inputs)
    {
        var node = new NodeProto { OpType = op, Name = name };
        node.Input.Add(inputs);
        return node;
    }

    private string Output(NodeProto node, long[] shape, string? output = null)
    {
        var name = output ?? $"{node.Name}_out";
        node.Output.Add(name);
        _graph.Node.Add(node);
        _shapes[name] = shape;
        return name;
    }

    private static AttributeProto Ints(string name, params long[] values)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        a.Ints.Add(values);
        return a;
    }

    private static ValueInfoProto ValueInfo(string name, long[] shape)
    {
        var tensor = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = new TensorShapeProto() };
        tensor.Shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = "batch" });
        foreach (var d in shape)
            tensor.Shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = tensor } };
    }
}

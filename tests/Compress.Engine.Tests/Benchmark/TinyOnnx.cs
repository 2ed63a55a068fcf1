using Google.Protobuf;
using Onnx;

namespace Compress.Engine.Tests.Benchmark;

/// <summary>
/// Hand-built ONNX classifiers for the benchmark tests: input <c>input</c> [batch, C, H, W] float32 (batch symbolic),
/// Conv(C -> Hidden, 3x3, pad 1) -> Relu -> GlobalAveragePool -> Flatten -> Gemm -> <c>logits</c> [batch, classes];
/// opset 17, IR version 8; weights drawn from a seeded <see cref="Random"/>.
/// </summary>
internal static class TinyOnnx
{
    public const int Hidden = 4;

    /// <summary>
    /// The model as a protobuf (tests may alter it before writing): <paramref name="hidden"/> Conv channels,
    /// <paramref name="classes"/> logits, input <paramref name="channels"/> x <paramref name="height"/> x
    /// <paramref name="width"/>, weights from <paramref name="seed"/>; <paramref name="fixedBatch"/> &gt; 0 fixes the
    /// batch dimension instead of the symbolic <c>batch</c>.
    /// </summary>
    public static ModelProto Build(int seed = 0, int channels = 3, int height = 32, int width = 32, int classes = 10,
        int hidden = Hidden, int fixedBatch = 0)
    {
        var random = new Random(seed);
        var graph = new GraphProto { Name = "tiny" };
        graph.Input.Add(Value("input", "batch", channels, height, width));
        graph.Output.Add(Value("logits", "batch", classes));
        if (fixedBatch > 0)
        {
            graph.Input[0].Type.TensorType.Shape.Dim[0] = new TensorShapeProto.Types.Dimension { DimValue = fixedBatch };
            graph.Output[0].Type.TensorType.Shape.Dim[0] = new TensorShapeProto.Types.Dimension { DimValue = fixedBatch };
        }
        graph.Initializer.Add(Tensor("conv.weight", random, hidden, channels, 3, 3));
        graph.Initializer.Add(Tensor("conv.bias", random, hidden));
        graph.Initializer.Add(Tensor("fc.weight", random, classes, hidden));
        graph.Initializer.Add(Tensor("fc.bias", random, classes));
        var conv = Node("Conv", ["input", "conv.weight", "conv.bias"], "conv");
        conv.Attribute.Add(Ints("pads", 1, 1, 1, 1));
        conv.Attribute.Add(Ints("kernel_shape", 3, 3));
        graph.Node.Add(conv);
        graph.Node.Add(Node("Relu", ["conv"], "relu"));
        graph.Node.Add(Node("GlobalAveragePool", ["relu"], "pool"));
        var flatten = Node("Flatten", ["pool"], "flat");
        flatten.Attribute.Add(new AttributeProto { Name = "axis", Type = AttributeProto.Types.AttributeType.Int, I = 1 });
        graph.Node.Add(flatten);
        var gemm = Node("Gemm", ["flat", "fc.weight", "fc.bias"], "logits");
        gemm.Attribute.Add(new AttributeProto { Name = "transB", Type = AttributeProto.Types.AttributeType.Int, I = 1 });
        graph.Node.Add(gemm);
        var model = new ModelProto { IrVersion = 8, ProducerName = "compress-tests", Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 17 });
        return model;
    }

    /// <summary>Writes <paramref name="model"/> (default <see cref="Build"/>) to <paramref name="path"/>.</summary>
    public static string Write(string path, ModelProto? model = null)
    {
        File.WriteAllBytes(path, (model ?? Build()).ToByteArray());
        return path;
    }

    public static ValueInfoProto Value(string name, string batch, params int[] dims)
    {
        var shape = new TensorShapeProto();
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = batch });
        foreach (int d in dims) shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto
            {
                TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape },
            },
        };
    }

    private static TensorProto Tensor(string name, Random random, params long[] dims)
    {
        var tensor = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float };
        tensor.Dims.AddRange(dims);
        long count = dims.Aggregate(1L, (a, b) => a * b);
        for (long i = 0; i < count; i++) tensor.FloatData.Add((float)((random.NextDouble() * 2) - 1));
        return tensor;
    }

    private static NodeProto Node(string op, string[] inputs, string output)
    {
        var node = new NodeProto { OpType = op, Name = output + "_node" };
        node.Input.AddRange(inputs);
        node.Output.Add(output);
        return node;
    }

    private static AttributeProto Ints(string name, params long[] values)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        a.Ints.AddRange(values);
        return a;
    }
}

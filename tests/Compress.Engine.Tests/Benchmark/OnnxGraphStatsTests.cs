using Compress.Engine.Benchmark;
using Onnx;

namespace Compress.Engine.Tests.Benchmark;

public class OnnxGraphStatsTests
{
    // Conv 3->4, 3x3, pad 1 on 32x32, the global average pool (one per output element) and Gemm 4->10: the MACs of
    // TinyOnnx.Build() under the one MAC convention.
    private const long TinyMacs = (4L * 32 * 32 * 3 * 3 * 3) + 4 + (4 * 10);

    [Fact]
    public void CountMacs_TinyModel_ConvPlusGemm()
    {
        var model = TinyOnnx.Build();
        var graph = model.Graph;
        Assert.Equal(TinyMacs, OnnxGraphStats.CountMacs(model));
        Assert.Equal(graph.Initializer.Sum(t => t.Dims.Aggregate(1L, (a, b) => a * b)), OnnxGraphStats.CountParameters(graph));
    }

    [Fact]
    public void CountMacs_ReshapeAndMatMulInsteadOfFlattenAndGemm_SameMacs()
    {
        var model = TinyOnnx.Build();
        var graph = model.Graph;
        // Flatten -> Reshape(pool, [0, -1]); Gemm(transB) -> MatMul(flat, fc.weightT) + Add(fc.bias).
        var shape = new TensorProto { Name = "shape", DataType = (int)TensorProto.Types.DataType.Int64 };
        shape.Dims.Add(2);
        shape.Int64Data.AddRange([0, -1]);
        graph.Initializer.Add(shape);
        var weightT = new TensorProto { Name = "fc.weightT", DataType = (int)TensorProto.Types.DataType.Float };
        weightT.Dims.AddRange([4, 10]);
        weightT.FloatData.AddRange(new float[40]);
        graph.Initializer.Add(weightT);
        graph.Node[3] = Node("Reshape", ["pool", "shape"], "flat");
        graph.Node[4] = Node("MatMul", ["flat", "fc.weightT"], "mm");
        graph.Node.Add(Node("Add", ["mm", "fc.bias"], "logits"));
        Assert.Equal(TinyMacs, OnnxGraphStats.CountMacs(model));
    }

    [Fact]
    public void CountMacs_UnknownOperator_Null()
    {
        var model = TinyOnnx.Build();
        var graph = model.Graph;
        graph.Node[1] = Node("Mish", ["conv"], "relu");
        Assert.Null(OnnxGraphStats.CountMacs(model));
    }

    [Fact]
    public void CountMacs_StridedPaddedConvAndCeilPool_OutputSizesAsOnnxDefines()
    {
        var model = TinyOnnx.Build();
        var graph = model.Graph;
        // Conv stride 2, pad 1, 3x3 on 32: floor((32 + 2 - 3) / 2) + 1 = 16 positions per side.
        graph.Node[0].Attribute.Add(new AttributeProto { Name = "strides", Type = AttributeProto.Types.AttributeType.Ints, Ints = { 2, 2 } });
        // MaxPool 3x3 stride 2 ceil on 16: ceil((16 - 3) / 2) + 1 = 8 (irrelevant to MACs, but must propagate).
        var pool = Node("MaxPool", ["relu"], "mp");
        pool.Attribute.Add(new AttributeProto { Name = "kernel_shape", Type = AttributeProto.Types.AttributeType.Ints, Ints = { 3, 3 } });
        pool.Attribute.Add(new AttributeProto { Name = "strides", Type = AttributeProto.Types.AttributeType.Ints, Ints = { 2, 2 } });
        pool.Attribute.Add(new AttributeProto { Name = "ceil_mode", Type = AttributeProto.Types.AttributeType.Int, I = 1 });
        graph.Node.Insert(2, pool);
        graph.Node[3].Input[0] = "mp";
        Assert.Equal((4L * 16 * 16 * 27) + 4 + 40, OnnxGraphStats.CountMacs(model));
    }

    private static NodeProto Node(string op, string[] inputs, string output)
    {
        var node = new NodeProto { OpType = op, Name = output + "_node" };
        node.Input.AddRange(inputs);
        node.Output.Add(output);
        return node;
    }
}

using Compress.Engine.Diagnostics;
using Compress.Engine.Export;
using Onnx;

namespace Compress.Engine.Tests.Export;

public sealed class OnnxProfileTests
{
    [Fact]
    public void Measure_SmallGraph_MatchesHandCount()
    {
        // conv 3->8 k3 p1 on 8x8: 8*3*9*64 = 13824; BN on 8x8x8 = 512; maxpool -> 4x4;
        // conv 8->4 k3 stride 1 no pad: 4*8*9*2*2 = 1152; GAP = one per output element = 4; flatten; fc 4->10 = 40.
        var g = new OnnxTestGraph(1, 3, 8, 8);
        var x = g.MaxPool(g.Relu(g.BatchNorm("bn1", g.Conv("conv1", "input", 8, 3, pad: 1))), 2);
        g.Gemm("fc", g.Flatten(g.GlobalAveragePool(g.Conv("conv2", x, 4, 3))), 10, "logits");

        var p = OnnxProfile.Measure(g.Build("logits"));

        Assert.Equal(13824 + 512 + 1152 + 4 + 40, p.Macs);
        Assert.Equal((8 * 27) + 8 + (4 * 8) + (4 * 72) + 4 + 40 + 10, p.Parameters);
        Assert.Equal(13824, p.Nodes.Single(n => n.Name == "conv1").Macs);
        Assert.Equal(new long[] { 4, 2, 2 }, p.Nodes.Single(n => n.Name == "conv2").OutputShape);
        Assert.Equal(0, p.Nodes.Single(n => n.OpType == "MaxPool").Macs);
    }

    [Fact]
    public void Measure_InputWithoutStaticSize_ThrowsUnsupported()
    {
        var g = new OnnxTestGraph(1, 3, 8, 8);
        g.Gemm("fc", g.Flatten(g.GlobalAveragePool(g.Conv("conv1", "input", 8, 3, pad: 1))), 10, "logits");
        var model = g.Build("logits");
        model.Graph.Input[0].Type.TensorType.Shape.Dim[2] = new TensorShapeProto.Types.Dimension { DimParam = "height" };

        var e = Assert.Throws<CompressException>(() => OnnxProfile.Measure(model));
        Assert.Equal(DiagnosticCode.OnnxGraphUnsupported, e.Code);
    }
}

using Compress.Engine.Export;
using Google.Protobuf;
using Onnx;

namespace Compress.Engine.Tests.Export;

public sealed class OnnxCompactorTests
{
    private const int C = 3, H = 8, W = 8;

    /// <summary>conv1 3->8 k3 p1, relu, conv2 8->6 k3 p1, relu, maxpool 2, conv3 6->5 k3 p1, relu, GAP, flatten, fc 5->4.</summary>
    private static (OnnxTestGraph Graph, string Logits) Chain(int seed = 1)
    {
        var g = new OnnxTestGraph(seed, C, H, W);
        var x = g.Relu(g.Conv("conv1", "input", 8, 3, pad: 1));
        x = g.MaxPool(g.Relu(g.Conv("conv2", x, 6, 3, pad: 1)), 2);
        x = g.Flatten(g.GlobalAveragePool(g.Relu(g.Conv("conv3", x, 5, 3, pad: 1))));
        return (g, g.Gemm("fc", x, 4, "logits"));
    }

    /// <summary>stem 3->8, then [conv1 8->8, relu, conv2 8->8] + downsample 1x1 8->8 stride 2... (same stride), relu, GAP, fc 8->4.</summary>
    private static OnnxTestGraph Residual(int seed = 2)
    {
        var g = new OnnxTestGraph(seed, C, H, W);
        var stem = g.Relu(g.Conv("stem", "input", 8, 3, pad: 1));
        var branch = g.Conv("layer1.0.conv2", g.Relu(g.Conv("layer1.0.conv1", stem, 8, 3, pad: 1, stride: 2)), 8, 3, pad: 1);
        var shortcut = g.Conv("layer1.0.downsample.0", stem, 8, 1, stride: 2);
        var y = g.Flatten(g.GlobalAveragePool(g.Relu(g.Add(branch, shortcut))));
        g.Gemm("fc", y, 4, "logits");
        return g;
    }

    private static CompactedNode Node(CompactionResult r, string weight) => r.Nodes.Single(n => n.WeightName == weight);

    private static long[] Dims(ModelProto m, string initializer) => [.. m.Graph.Initializer.Single(t => t.Name == initializer).Dims];

    private static void AssertSameOutputs(ModelProto before, ModelProto after)
    {
        foreach (var batch in new[] { 1, 3 })
        {
            var input = OnnxTestGraph.RandomInput(100 + batch, batch * C * H * W);
            var expected = OnnxTestGraph.Run(before, input, [batch, C, H, W]);
            var actual = OnnxTestGraph.Run(after, input, [batch, C, H, W]);
            Assert.Equal(expected.Length, actual.Length);
            Assert.True(expected.Max(Math.Abs) > 1e-3, "the reference outputs should not be trivially zero");
            var maxDiff = expected.Zip(actual, (a, b) => Math.Abs(a - b)).Max();
            Assert.True(maxDiff <= 1e-6, $"batch {batch}: max abs diff {maxDiff}");
        }
    }

    [Fact]
    public void Compact_ChainWithZeroFilters_RemovesExactlyThoseChannelsAndKeepsOutputs()
    {
        var (g, logits) = Chain();
        g.ZeroFilter("conv1", 1);
        g.ZeroFilter("conv1", 4);
        g.ZeroFilter("conv2", 2);
        var model = g.Build(logits);

        var r = OnnxCompactor.Compact(model);

        Assert.Equal([1, 4], Node(r, "conv1.weight").RemovedOutputChannels);
        Assert.Equal([2], Node(r, "conv2.weight").RemovedOutputChannels);
        Assert.Equal(new long[] { 6, 3, 3, 3 }, Dims(r.Model, "conv1.weight"));
        Assert.Equal(new long[] { 6 }, Dims(r.Model, "conv1.bias"));
        Assert.Equal(new long[] { 5, 6, 3, 3 }, Dims(r.Model, "conv2.weight"));
        Assert.Equal(new long[] { 5, 5, 3, 3 }, Dims(r.Model, "conv3.weight"));
        Assert.Equal(new long[] { 4, 5 }, Dims(r.Model, "fc.weight"));
        Assert.Equal(6, Node(r, "conv2.weight").InChannelsAfter);
        Assert.Equal(3, r.RemovedChannels);
        // value_info follows the new widths.
        Assert.Equal(6, r.Model.Graph.ValueInfo.Single(v => v.Name == "conv1_out").Type.TensorType.Shape.Dim[1].DimValue);
        Assert.True(r.BytesAfter < r.BytesBefore);
        AssertSameOutputs(model, r.Model);
    }

    [Fact]
    public void Compact_ZeroFilterWithNonzeroBias_IsNotRemoved()
    {
        var (g, logits) = Chain();
        g.ZeroFilter("conv1", 3, bias: 0.25f);
        var r = OnnxCompactor.Compact(g.Build(logits));

        Assert.Empty(r.Nodes);
        Assert.Equal(new long[] { 8, 3, 3, 3 }, Dims(r.Model, "conv1.weight"));
        Assert.Equal(r.ParametersBefore, r.ParametersAfter);
    }

    [Fact]
    public void Compact_ZeroRowOfLogitsGemm_KeepsEveryOutput()
    {
        var (g, logits) = Chain();
        Array.Clear(g.Tensor("fc.weight"), 5, 5);
        g.Tensor("fc.bias")[1] = 0;
        var model = g.Build(logits);
        var r = OnnxCompactor.Compact(model);

        Assert.Empty(r.Nodes);
        Assert.Equal(new long[] { 4, 5 }, Dims(r.Model, "fc.weight"));
        Assert.Equal(4, OnnxTestGraph.Run(r.Model, OnnxTestGraph.RandomInput(5, C * H * W), [1, C, H, W]).Length);
    }

    [Fact]
    public void Compact_DeadOnOneResidualBranchOnly_IsNotRemoved()
    {
        var g = Residual();
        g.ZeroFilter("layer1.0.conv2", 3);
        var r = OnnxCompactor.Compact(g.Build("logits"));

        Assert.Empty(r.Nodes);
        Assert.Equal(new long[] { 8, 8, 3, 3 }, Dims(r.Model, "layer1.0.conv2.weight"));
        Assert.Equal(new long[] { 8, 8, 1, 1 }, Dims(r.Model, "layer1.0.downsample.0.weight"));
    }

    [Fact]
    public void Compact_DeadOnBothResidualBranches_RemovesIntersectionFromProducersAndConsumers()
    {
        var g = Residual();
        g.ZeroFilter("layer1.0.conv2", 3);
        g.ZeroFilter("layer1.0.conv2", 5);
        g.ZeroFilter("layer1.0.downsample.0", 3);
        g.ZeroFilter("stem", 0); // the stem feeds two convs: both lose input channel 0
        var model = g.Build("logits");
        var r = OnnxCompactor.Compact(model);

        Assert.Equal([3], Node(r, "layer1.0.conv2.weight").RemovedOutputChannels);
        Assert.Equal([3], Node(r, "layer1.0.downsample.0.weight").RemovedOutputChannels);
        Assert.Equal([0], Node(r, "stem.weight").RemovedOutputChannels);
        Assert.Equal(new long[] { 7, 8, 3, 3 }, Dims(r.Model, "layer1.0.conv2.weight"));
        Assert.Equal(new long[] { 7, 7, 1, 1 }, Dims(r.Model, "layer1.0.downsample.0.weight"));
        Assert.Equal(new long[] { 8, 7, 3, 3 }, Dims(r.Model, "layer1.0.conv1.weight"));
        Assert.Equal(new long[] { 4, 7 }, Dims(r.Model, "fc.weight"));
        Assert.Equal(7, Node(r, "fc.weight").InChannelsAfter);
        AssertSameOutputs(model, r.Model);
    }

    [Fact]
    public void Compact_LastConvBeforePoolFlattenGemm_RemovesGemmColumnsAndCountsMacs()
    {
        // conv1 3->8 k3 p1 on 8x8 = 8*3*9*64 = 13824 MACs; fc 8->10 = 80 MACs.
        var g = new OnnxTestGraph(3, C, H, W);
        g.Gemm("fc", g.Flatten(g.GlobalAveragePool(g.Relu(g.Conv("conv1", "input", 8, 3, pad: 1)))), 10, "logits");
        g.ZeroFilter("conv1", 1);
        g.ZeroFilter("conv1", 4);
        var fc = (float[])g.Tensor("fc.weight").Clone();
        var model = g.Build("logits");
        var r = OnnxCompactor.Compact(model);

        // GlobalAveragePool: one MAC per output element (8, then 6 channels).
        Assert.Equal((8 * 3 * 9 * 64) + 8 + (8 * 10), r.MacsBefore);
        Assert.Equal((6 * 3 * 9 * 64) + 6 + (6 * 10), r.MacsAfter);
        Assert.Equal((8 * 27) + 8 + 80 + 10, r.ParametersBefore);
        Assert.Equal((6 * 27) + 6 + 60 + 10, r.ParametersAfter);
        var after = OnnxFloatTensor.Read(r.Model.Graph.Initializer.Single(t => t.Name == "fc.weight"));
        int[] kept = [0, 2, 3, 5, 6, 7];
        for (var o = 0; o < 10; o++)
        {
            for (var i = 0; i < kept.Length; i++)
                Assert.Equal(fc[(o * 8) + kept[i]], after[(o * 6) + i]);
        }
        AssertSameOutputs(model, r.Model);
    }

    [Fact]
    public void Compact_FlattenWithoutPooling_RemovesWholeColumnBlocks()
    {
        var g = new OnnxTestGraph(4, C, H, W);
        g.Gemm("fc", g.Flatten(g.MaxPool(g.Relu(g.Conv("conv1", "input", 4, 3, pad: 1)), 2)), 3, "logits");
        g.ZeroFilter("conv1", 2);
        var model = g.Build("logits");
        var r = OnnxCompactor.Compact(model);

        Assert.Equal(new long[] { 3, 48 }, Dims(r.Model, "fc.weight"));
        Assert.Equal(48, Node(r, "fc.weight").InChannelsAfter);
        AssertSameOutputs(model, r.Model);
    }

    [Fact]
    public void Compact_BatchNormWithZeroShift_CompactsThroughIt()
    {
        var g = new OnnxTestGraph(5, C, H, W);
        var x = g.Relu(g.BatchNorm("bn1", g.Conv("conv1", "input", 6, 3, pad: 1, bias: false)));
        g.Gemm("fc", g.Flatten(g.GlobalAveragePool(g.Relu(g.Conv("conv2", x, 4, 3, pad: 1)))), 3, "logits");
        g.ZeroFilter("conv1", 1);
        g.ZeroFilter("conv1", 2);
        g.Tensor("bn1.bias")[1] = 0;
        g.Tensor("bn1.running_mean")[1] = 0; // BN(0) = 0 for channel 1 only; channel 2 maps 0 to a nonzero constant
        var model = g.Build("logits");
        var r = OnnxCompactor.Compact(model);

        Assert.Equal([1], Node(r, "conv1.weight").RemovedOutputChannels);
        Assert.Equal(new long[] { 5 }, Dims(r.Model, "bn1.running_var"));
        Assert.Equal(new long[] { 4, 5, 3, 3 }, Dims(r.Model, "conv2.weight"));
        AssertSameOutputs(model, r.Model);
    }

    [Fact]
    public void Compact_ConsumerIsGroupedOrUnknown_LeavesValueAlone()
    {
        var g = new OnnxTestGraph(6, C, H, W);
        var a = g.Relu(g.Conv("conv1", "input", 4, 3, pad: 1));
        var b = g.Conv("dw", a, 4, 3, pad: 1, group: 4);
        var c = g.Sigmoid(g.Conv("conv2", b, 4, 1));
        g.Gemm("fc", g.Flatten(g.GlobalAveragePool(c)), 3, "logits");
        g.ZeroFilter("conv1", 0);
        g.ZeroFilter("conv2", 1);
        var r = OnnxCompactor.Compact(g.Build("logits"));

        Assert.Empty(r.Nodes);
        Assert.Equal(r.MacsBefore, r.MacsAfter);
    }

    [Fact]
    public void Compact_FilterReadingOnlyDeadInputs_IsRemovedInTheSamePass()
    {
        var (g, logits) = Chain();
        g.ZeroFilter("conv1", 5);
        // conv2 filter 0 reads only conv1's dead channel 5 (finite weights there) and has no bias: its output is zero too.
        var w = g.Tensor("conv2.weight");
        Array.Clear(w, 0, 8 * 9);
        for (var k = 0; k < 9; k++)
            w[(5 * 9) + k] = 0.5f;
        g.Tensor("conv2.bias")[0] = 0;
        var model = g.Build(logits);
        var r = OnnxCompactor.Compact(model);

        Assert.Equal([5], Node(r, "conv1.weight").RemovedOutputChannels);
        Assert.Equal([0], Node(r, "conv2.weight").RemovedOutputChannels);
        Assert.Equal(new long[] { 5, 7, 3, 3 }, Dims(r.Model, "conv2.weight"));
        Assert.Empty(OnnxCompactor.Compact(r.Model).Nodes);
        AssertSameOutputs(model, r.Model);
    }

    /// <summary>Two identity-shortcut blocks after a stem: stem, add(a2, stem), add(b2, block1) share one channel set.</summary>
    private static OnnxTestGraph IdentityBlocks(int seed = 7)
    {
        var g = new OnnxTestGraph(seed, C, H, W);
        var stem = g.Relu(g.Conv("stem", "input", 6, 3, pad: 1));
        var block1 = g.Relu(g.Add(g.Conv("a2", g.Relu(g.Conv("a1", stem, 5, 3, pad: 1)), 6, 3, pad: 1), stem));
        var block2 = g.Relu(g.Add(g.Conv("b2", g.Relu(g.Conv("b1", block1, 5, 3, pad: 1)), 6, 3, pad: 1), block1));
        g.Gemm("fc", g.Flatten(g.GlobalAveragePool(block2)), 4, "logits");
        return g;
    }

    [Fact]
    public void Compact_ChainOfAddsDeadOnAllButOneProducer_IsNotRemoved()
    {
        var g = IdentityBlocks();
        g.ZeroFilter("stem", 2);
        g.ZeroFilter("a2", 2);
        var r = OnnxCompactor.Compact(g.Build("logits"));

        Assert.Empty(r.Nodes);
    }

    [Fact]
    public void Compact_ChainOfAddsDeadOnEveryProducer_RemovesFromAllProducersAndConsumers()
    {
        var g = IdentityBlocks();
        foreach (var conv in new[] { "stem", "a2", "b2" })
            g.ZeroFilter(conv, 2);
        var model = g.Build("logits");
        var r = OnnxCompactor.Compact(model);

        foreach (var conv in new[] { "stem", "a2", "b2" })
            Assert.Equal([2], Node(r, $"{conv}.weight").RemovedOutputChannels);
        Assert.Equal(new long[] { 5, 5, 3, 3 }, Dims(r.Model, "a1.weight"));
        Assert.Equal(new long[] { 5, 5, 3, 3 }, Dims(r.Model, "b1.weight"));
        Assert.Equal(new long[] { 4, 5 }, Dims(r.Model, "fc.weight"));
        AssertSameOutputs(model, r.Model);
    }

    [Fact]
    public void Compact_InitializersAlsoListedAsGraphInputs_UpdatesTheirDeclaredShapes()
    {
        var (g, logits) = Chain();
        g.ZeroFilter("conv2", 4);
        var model = g.Build(logits);
        foreach (var t in model.Graph.Initializer)
        {
            var tensor = new TypeProto.Types.Tensor { ElemType = t.DataType, Shape = new TensorShapeProto() };
            foreach (var d in t.Dims)
                tensor.Shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
            model.Graph.Input.Add(new ValueInfoProto { Name = t.Name, Type = new TypeProto { TensorType = tensor } });
        }
        var r = OnnxCompactor.Compact(model);

        var declared = r.Model.Graph.Input.Single(i => i.Name == "conv3.weight").Type.TensorType.Shape.Dim.Select(d => d.DimValue);
        Assert.Equal(new long[] { 5, 5, 3, 3 }, declared);
        Assert.Equal([4], Node(r, "conv2.weight").RemovedOutputChannels);
        AssertSameOutputs(model, r.Model);
    }

    [Fact]
    public void Compact_Input_IsNotMutated()
    {
        var (g, logits) = Chain();
        g.ZeroFilter("conv1", 1);
        var model = g.Build(logits);
        var bytes = model.ToByteArray();

        _ = OnnxCompactor.Compact(model);

        Assert.Equal(bytes, model.ToByteArray());
    }

    [Fact]
    public void Compact_Twice_EqualsOnce()
    {
        var g = Residual();
        g.ZeroFilter("layer1.0.conv2", 3);
        g.ZeroFilter("layer1.0.downsample.0", 3);
        g.ZeroFilter("layer1.0.conv1", 6);
        var once = OnnxCompactor.Compact(g.Build("logits"));
        var twice = OnnxCompactor.Compact(once.Model);

        Assert.NotEmpty(once.Nodes);
        Assert.Empty(twice.Nodes);
        Assert.Equal(once.Model.ToByteArray(), twice.Model.ToByteArray());
        Assert.Equal(once.MacsAfter, twice.MacsBefore);
    }
}

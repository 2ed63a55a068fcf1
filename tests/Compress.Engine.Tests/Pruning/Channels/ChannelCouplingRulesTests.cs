using Compress.Engine.Models;
using Compress.Engine.Models.Graph;
using Compress.Engine.Models.Onnx;
using Compress.Engine.Pruning.Channels;
using Compress.Engine.Tests.Models.Onnx;
using static TorchSharp.torch;

namespace Compress.Engine.Tests.Pruning.Channels;

/// <summary>The dependency rules one by one: on hand-made graphs where the expected groups can be written down, and on
/// the torchvision families where each rule first matters.</summary>
public class ChannelCouplingRulesTests
{
    private static IReadOnlyList<ChannelGroup> Groups(string file)
    {
        using var model = OnnxImporter.Create(OnnxImporter.Read(OnnxImportFixtures.Get(file).Path));
        return ChannelDependencyAnalyzer.Analyze(model);
    }

    private static ClassifierModel Build(ModelGraph graph, int seed)
    {
        manual_seed(seed);
        var model = new ClassifierModel(new ModelOptions { Architecture = "test", Classes = 4 }, new InputShape(3, 8, 8), graph);
        model.eval();
        return model;
    }

    /// <summary>conv a (3->4) and conv b (3->6) concatenated (10 channels), read by conv c (10->5), pooled, linear.</summary>
    private static ModelGraph ConcatGraph()
    {
        var g = new GraphBuilder();
        string a = g.Conv("a", g.Input, 3, 4, 3, 1, 1, bias: true);
        string b = g.Conv("b", g.Input, 3, 6, 1, 1, 0, bias: true);
        string joined = g.Add(new ConcatNode("cat", [a, b], "cat"));
        string c = g.Conv("c", joined, 10, 5, 3, 1, 1, bias: true);
        string pooled = g.Add(new GlobalAveragePoolNode("gap", c, "gap"));
        string flat = g.Add(new FlattenNode("flat", pooled, "flat"));
        return g.Build(g.Linear("fc", flat, 5, 4, output: "logits"));
    }

    [Fact]
    public void Concat_EachInputKeepsItsGroup_AndTheConsumerLosesTheRightColumns()
    {
        using var model = Build(ConcatGraph(), 1);
        var groups = ChannelDependencyAnalyzer.Analyze(model);
        var a = groups.Single(x => x.Producers.SequenceEqual(["a"]));
        var b = groups.Single(x => x.Producers.SequenceEqual(["b"]));
        Assert.Equal((4, 6), (a.Channels, b.Channels));
        Assert.Contains(a.Consumers, c => c.Module == "c");
        Assert.Contains(b.Consumers, c => c.Module == "c");
        Assert.True(a.IsPrunable && b.IsPrunable && a.Reorderable && b.Reorderable);

        // Keep a's channels 3, 1 and b's 5, 0, 2: c's input columns must be [3, 1] then 4 + [5, 0, 2].
        var plan = ChannelPruner.Plan(model, new ChannelPruningOptions { Ratio = 0, Ranking = ChannelRanking.Naive })
            .Select(p => p.Group.Id == a.Id ? p with { KeptIndices = [3, 1] }
                : p.Group.Id == b.Id ? p with { KeptIndices = [5, 0, 2] } : p).ToList();
        using var result = ChannelPruner.Apply(model, plan);
        var before = model.OrderedStateDict().ToDictionary(s => s.Key, s => s.Value);
        var after = result.Model.OrderedStateDict().ToDictionary(s => s.Key, s => s.Value);
        Assert.Equal([2L, 3, 3, 3], after["a.weight"].shape);
        Assert.Equal([5L, 5, 3, 3], after["c.weight"].shape);
        using var expected = before["c.weight"].index_select(1, tensor(new long[] { 3, 1, 9, 4, 6 }));
        Assert.True(expected.allclose(after["c.weight"], rtol: 0, atol: 0));
        using var bRows = before["b.weight"].index_select(0, tensor(new long[] { 5, 0, 2 }));
        Assert.True(bRows.allclose(after["b.weight"], rtol: 0, atol: 0));
    }

    [Fact]
    public void GroupedConvolution_EveryBlockLosesTheSameNumber_AndTheGroupCountStays()
    {
        // conv1 3->8, grouped conv 8->8 in 2 groups, conv3 8->6, GAP, linear.
        var g = new GraphBuilder();
        string x = g.Conv("conv1", g.Input, 3, 8, 3, 1, 1, bias: true);
        x = g.Conv("grouped", x, 8, 8, 3, 1, 1, bias: true, groups: 2);
        x = g.Conv("conv3", x, 8, 6, 1, 1, 0, bias: true);
        x = g.Add(new GlobalAveragePoolNode("gap", x, "gap"));
        x = g.Add(new FlattenNode("flat", x, "flat"));
        using var model = Build(g.Build(g.Linear("fc", x, 6, 4, output: "logits")), 2);

        var groups = ChannelDependencyAnalyzer.Analyze(model);
        var input = groups.Single(x => x.Producers.SequenceEqual(["conv1"]));
        var output = groups.Single(x => x.Producers.SequenceEqual(["grouped"]));
        Assert.Equal((2, 2), (input.Blocks, output.Blocks));

        using var result = ChannelPruner.Prune(model, new ChannelPruningOptions { Ratio = 0.5 });
        foreach (var group in result.Groups.Where(r => r.Group.Blocks == 2))
        {
            Assert.Equal(4, group.ChannelsAfter);
            Assert.Equal(2, group.KeptIndices.Count(c => c < 4)); // two from each block of four
        }
        var node = result.Model.DescribeGraph().Nodes.OfType<ConvNode>().Single(n => n.Module == "grouped");
        Assert.Equal(2, node.Groups);
        var shapes = result.Model.OrderedStateDict().ToDictionary(s => s.Key, s => s.Value.shape);
        Assert.Equal([4L, 2, 3, 3], shapes["grouped.weight"]);

        // Sorting alone is exact through the grouped convolution, block by block.
        using var sorted = ChannelPruner.Prune(model, new ChannelPruningOptions { Ratio = 0 });
        Assert.Contains(sorted.Groups, r => !r.KeptIndices.SequenceEqual(Enumerable.Range(0, r.ChannelsBefore)));
        using var batch = randn(2, 3, 8, 8);
        using var noGrad = no_grad();
        using var a = model.call(batch);
        using var b = sorted.Model.call(batch);
        Assert.True(a.allclose(b, rtol: 0, atol: 1e-5));
    }

    [Fact]
    public void RatioZeroNaive_OnEveryRule_ChangesNothing()
    {
        using var model = Build(ConcatGraph(), 3);
        using var result = ChannelPruner.Prune(model, new ChannelPruningOptions { Ratio = 0, Ranking = ChannelRanking.Naive });
        var before = model.OrderedStateDict().ToDictionary(s => s.Key, s => s.Value);
        foreach (var (key, value) in result.Model.OrderedStateDict()) Assert.True(value.allclose(before[key], rtol: 0, atol: 0), key);
        Assert.Equal(model.DescribeGraph().Nodes, result.Model.DescribeGraph().Nodes);
    }

    [Fact]
    public void DenseNet_ANormAfterAConcatenationSpansSeveralGroups()
    {
        var groups = Groups("densenet121-op17-bnkept.onnx");
        var spanning = groups.SelectMany(g => g.BatchNorms.Select(n => (n, g.Id))).GroupBy(x => x.n).Where(x => x.Count() > 1).ToList();
        Assert.NotEmpty(spanning);
        Assert.Contains(groups, g => g.Consumers.Count > 1);
        Assert.All(groups.Where(g => g.IsPrunable), g => Assert.True(g.Reorderable));
    }

    [Theory]
    [InlineData("squeezenet1_1-op17-nobn.onnx")]
    [InlineData("googlenet-op17-bnkept.onnx")]
    public void ConcatenatingFamilies_AConsumerReadsSeveralGroups(string file)
    {
        var groups = Groups(file);
        var consumers = groups.SelectMany(g => g.Consumers.Select(c => c.Module)).GroupBy(c => c).Where(c => c.Count() > 1);
        Assert.NotEmpty(consumers);
    }

    [Fact]
    public void MobileNetV2_DepthwiseConvolutionsShrinkWithTheirInput()
    {
        var groups = Groups("mobilenet_v2-op17-bnkept.onnx");
        var withDepthwise = groups.Where(g => g.Others.Count > 0).ToList();
        Assert.NotEmpty(withDepthwise);
        Assert.All(withDepthwise, g => Assert.True(g.IsPrunable, g.ExcludedReason));
        Assert.Equal(2, groups.Count(g => !g.IsPrunable)); // the input and the logits only
    }

    [Fact]
    public void LayerRatio_ByADepthwiseConvolutionsName_SetsTheGroupItCarries()
    {
        using var model = OnnxImporter.Create(OnnxImporter.Read(OnnxImportFixtures.Get("mobilenet_v2-op17-bnkept.onnx").Path));
        var target = ChannelDependencyAnalyzer.Analyze(model).First(g => g.Others.Count > 0);
        string depthwise = target.Others[0];
        var plan = ChannelPruner.Plan(model, new ChannelPruningOptions
        {
            Ratio = 0,
            LayerRatios = new Dictionary<string, double> { [depthwise] = 0.5 },
        });
        var entry = plan.Single(p => p.Group.Id == target.Id);
        Assert.Equal(0.5, entry.Ratio);
        Assert.Equal(ChannelPruner.KeptChannels(target.Channels, 0.5), entry.ChannelsAfter);
        Assert.All(plan.Where(p => p.Group.Id != target.Id), p => Assert.Equal(p.ChannelsBefore, p.ChannelsAfter));
    }

    [Fact]
    public void EfficientNet_TheGateJoinsWhatItGates_TheExcitationHiddenWidthIsItsOwnGroup()
    {
        var groups = Groups("efficientnet_b0-op17-bnkept.onnx");
        // The depthwise output (Others) and the excitation's expanding 1x1 convolution (a producer) are one group.
        Assert.Contains(groups, g => g.Others.Count > 0 && g.Producers.Count >= 2 && g.IsPrunable);
        // The squeeze's hidden width: produced by one conv, read by one conv, nothing else.
        Assert.Contains(groups, g => g.Producers.Count == 1 && g.Consumers.Count == 1 && g.BatchNorms.Count == 0 && g.IsPrunable);
    }

    [Fact]
    public void RegNetY_GroupedConvolutionsGiveBlocks()
    {
        var groups = Groups("regnet_y_400mf-op17-bnkept.onnx");
        Assert.Contains(groups, g => g.Blocks > 1 && g.IsPrunable);
        Assert.All(groups.Where(g => g.Blocks > 1), g => Assert.Equal(0, g.Channels % g.Blocks));
    }

    [Fact]
    public void ShuffleNet_ShuffledGroupsKeepTheirOrder()
    {
        var groups = Groups("shufflenet_v2_x0_5-op17-bnkept.onnx");
        Assert.Contains(groups, g => g.IsPrunable && !g.Reorderable);
    }

    [Fact]
    public void ConvNeXt_ChannelsLastLayerNormAndLayerScaleShrinkWithTheChannels()
    {
        var groups = Groups("convnext_tiny-op17-nobn.onnx");
        Assert.Contains(groups, g => g.IsPrunable && g.BatchNorms.Count > 0 && g.Others.Count > 0);
    }

    [Fact]
    public void ConvNeXt_Opset13UnfusedLayerNorm_IsExcludedWithTheReason()
    {
        var groups = Groups("convnext_tiny-op13-nobn.onnx");
        Assert.Contains(groups, g => g.ExcludedReason?.Contains("is taken over the channels", StringComparison.Ordinal) == true);
        Assert.Contains(groups, g => g.IsPrunable); // the MLP hidden widths still prune
    }

    [Fact]
    public void AlexNet_FlattenIntoALinearLayer_AChannelIsItsBlockOfFeatures()
    {
        var groups = Groups("alexnet-op17-nobn.onnx");
        Assert.Contains(groups, g => g.IsPrunable && g.Consumers.Any(c => c.FeaturesPerChannel > 1));
    }
}

public class ChannelConstantFoldingTests
{
    /// <summary>conv1 3->6 (bias) -> ReLU -> conv2 6->5 (bias, kernel k, padding p) -> GAP -> linear: a BatchNorm-folded
    /// block. Filters 1 and 4 of conv1 are zero with positive biases: those channels output constant ReLU(bias).</summary>
    private static ClassifierModel Model(int kernel, int padding)
    {
        var g = new GraphBuilder();
        string x = g.Conv("conv1", g.Input, 3, 6, 3, 1, 1, bias: true);
        x = g.Add(new ReluNode("relu", x, "relu"));
        x = g.Conv("conv2", x, 6, 5, kernel, 1, padding, bias: true);
        x = g.Add(new GlobalAveragePoolNode("gap", x, "gap"));
        x = g.Add(new FlattenNode("flat", x, "flat"));
        manual_seed(4);
        var model = new ClassifierModel(new ModelOptions { Architecture = "test", Classes = 3 }, new InputShape(3, 6, 6),
            g.Build(g.Linear("fc", x, 5, 3, output: "logits")));
        model.eval();
        var state = model.OrderedStateDict().ToDictionary(s => s.Key, s => s.Value);
        using var noGrad = no_grad();
        foreach (int c in new[] { 1, 4 })
        {
            state["conv1.weight"][c].zero_();
            state["conv1.bias"][c].fill_(0.75 + c);
        }
        return model;
    }

    private static ChannelPruningResult RemoveDead(ClassifierModel model)
    {
        var plan = ChannelPruner.Plan(model, new ChannelPruningOptions { Ratio = 0, Ranking = ChannelRanking.Naive })
            .Select(p => p.Group.Producers.SequenceEqual(["conv1"]) ? p with { KeptIndices = [0, 2, 3, 5] } : p).ToList();
        return ChannelPruner.Apply(model, plan);
    }

    private static float[] Logits(ClassifierModel model, Tensor x)
    {
        using var noGrad = no_grad();
        using var y = model.call(x);
        return y.data<float>().ToArray();
    }

    [Fact]
    public void DeadChannelsIntoAnUnpaddedConsumer_AreFoldedIntoItsBias_AndTheLogitsStay()
    {
        using var model = Model(kernel: 1, padding: 0);
        using var result = RemoveDead(model);
        var group = result.Groups.Single(g => g.Group.Producers.SequenceEqual(["conv1"]));
        Assert.Equal(4, group.ChannelsAfter);
        Assert.Contains("folded into the biases of 'conv2'", group.Note, StringComparison.Ordinal);
        using var x = randn(3, 3, 6, 6);
        var expected = Logits(model, x);
        var actual = Logits(result.Model, x);
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], actual[i], 4);
        Assert.Equal(group.Note, ChannelPlanEntry.Of(group).Note);
    }

    [Fact]
    public void DeadChannelsIntoAPaddedConsumer_AreDroppedAndThePlanSaysWhy()
    {
        using var model = Model(kernel: 3, padding: 1);
        using var result = RemoveDead(model);
        var group = result.Groups.Single(g => g.Group.Producers.SequenceEqual(["conv1"]));
        Assert.Contains("dropped, not folded", group.Note, StringComparison.Ordinal);
        Assert.Contains("'conv2' pads its input", group.Note, StringComparison.Ordinal);
        var before = model.OrderedStateDict().ToDictionary(s => s.Key, s => s.Value);
        var after = result.Model.OrderedStateDict().ToDictionary(s => s.Key, s => s.Value);
        Assert.True(before["conv2.bias"].allclose(after["conv2.bias"], rtol: 0, atol: 0)); // untouched
    }

    [Fact]
    public void LiveChannels_NoNote()
    {
        using var model = Model(kernel: 1, padding: 0);
        using var result = ChannelPruner.Prune(model, new ChannelPruningOptions { Ratio = 0.3, Ranking = ChannelRanking.L2 });
        Assert.All(result.Groups.Where(g => !g.Group.Producers.SequenceEqual(["conv1"])), g => Assert.Null(g.Note));
    }
}

public class ChannelCriteriaTests
{
    [Fact]
    public void Gradient_KeepsTheChannelsWithTheLargestSummedTaylorScore()
    {
        using var model = Compress.Engine.Tests.Export.ExportFixtures.Load("vgg-cifar");
        using var x = randn(4, 3, 32, 32, generator: new Generator(5));
        using var y = tensor(new long[] { 1, 2, 3, 4 });
        var names = model.named_parameters().Select(p => p.name).ToList();
        var gradients = Compress.Engine.Pruning.Importance.GradientCollector.Collect(model, [(x, y)], names);
        try
        {
            var plan = ChannelPruner.Plan(model, new ChannelPruningOptions { Ratio = 0.5, Ranking = ChannelRanking.Gradient, Gradients = gradients });
            var group = plan.Single(p => p.Group.Producers.SequenceEqual(["backbone.conv1"]));

            // By hand: every entry channel c indexes: conv1's filter c, bn1's four vectors' entry c (running statistics
            // have no gradient), conv2's input column c.
            var state = model.OrderedStateDict().ToDictionary(s => s.Key, s => s.Value);
            double Taylor(string key, Func<Tensor, Tensor> slice) =>
                slice(state[key].to(ScalarType.Float64) * gradients[key].to(ScalarType.Float64)).abs().sum().item<double>();
            var expected = Enumerable.Range(0, group.ChannelsBefore).Select(c =>
                Taylor("backbone.conv1.weight", t => t[c]) + Taylor("backbone.bn1.weight", t => t[c]) +
                Taylor("backbone.bn1.bias", t => t[c]) + Taylor("backbone.conv2.weight", t => t[.., c])).ToArray();
            var best = Enumerable.Range(0, expected.Length).OrderByDescending(c => expected[c]).ThenBy(c => c).Take(group.ChannelsAfter);
            Assert.Equal(best, group.KeptIndices);
        }
        finally
        {
            foreach (var g in gradients.Values) g.Dispose();
        }
    }

    [Fact]
    public void Gradient_WithoutGradients_IsCmp0704()
    {
        using var model = Compress.Engine.Tests.Export.ExportFixtures.Load("lenet5");
        var e = Assert.Throws<Compress.Engine.Diagnostics.CompressException>(() =>
            ChannelPruner.Plan(model, new ChannelPruningOptions { Ranking = ChannelRanking.Gradient }));
        Assert.Equal(Compress.Engine.Diagnostics.DiagnosticCode.InvalidChannelPruningOption, e.Code);
    }

    [Fact]
    public void Random_IsSeeded()
    {
        using var model = Compress.Engine.Tests.Export.ExportFixtures.Load("vgg-cifar");
        IReadOnlyList<int>[] Kept(int seed) => [.. ChannelPruner.Plan(model, new ChannelPruningOptions { Ratio = 0.5, Ranking = ChannelRanking.Random, Seed = seed })
            .Select(p => p.KeptIndices)];
        Assert.Equal(Kept(1), Kept(1));
        Assert.NotEqual(Kept(1), Kept(2));
    }
}

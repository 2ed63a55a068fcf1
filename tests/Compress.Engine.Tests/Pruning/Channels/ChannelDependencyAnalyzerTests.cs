using Compress.Engine.Diagnostics;
using Compress.Engine.Models;
using Compress.Engine.Pruning.Channels;
using Compress.Engine.Tests.Models;

namespace Compress.Engine.Tests.Pruning.Channels;

public class ChannelDependencyAnalyzerTests
{
    private static IReadOnlyList<ChannelGroup> Analyze(string architecture, double width, params string[] ignored)
    {
        using var model = ModelFixtures.Create(new ModelOptions { Architecture = architecture, WidthMultiplier = width });
        return ChannelDependencyAnalyzer.Analyze(model, ignored);
    }

    private static ChannelGroup GroupOf(IReadOnlyList<ChannelGroup> groups, string producer) =>
        groups.Single(g => g.Producers.Contains(producer));

    [Fact]
    public void Analyze_ResNet18Cifar_StemJoinsLayer1AndEachStageIsOneGroup()
    {
        var groups = Analyze("resnet18-cifar", 0.125);
        // input, stage 1 (with the stem), 8 block-internal groups, stages 2..4, logits.
        Assert.Equal(14, groups.Count);
        Assert.Equal(Enumerable.Range(0, 14), groups.Select(g => g.Id));

        var stage1 = GroupOf(groups, "conv1");
        Assert.Equal(["conv1", "layer1.0.conv2", "layer1.1.conv2"], stage1.Producers);
        Assert.Equal(["bn1", "layer1.0.bn2", "layer1.1.bn2"], stage1.BatchNorms);
        Assert.Equal(["layer1.0.conv1", "layer1.1.conv1", "layer2.0.conv1", "layer2.0.downsample.0"],
            stage1.Consumers.Select(c => c.Module));
        Assert.Equal(8, stage1.Channels);

        var stage2 = GroupOf(groups, "layer2.0.downsample.0");
        Assert.Equal(["layer2.0.conv2", "layer2.0.downsample.0", "layer2.1.conv2"], stage2.Producers.Order(StringComparer.Ordinal));
        Assert.Equal(["layer2.0.bn2", "layer2.0.downsample.1", "layer2.1.bn2"], stage2.BatchNorms.Order(StringComparer.Ordinal));
        Assert.Equal(["layer2.1.conv1", "layer3.0.conv1", "layer3.0.downsample.0"], stage2.Consumers.Select(c => c.Module));
        Assert.Equal(16, stage2.Channels);

        var stage4 = GroupOf(groups, "layer4.1.conv2");
        var fc = Assert.Single(stage4.Consumers, c => c.Module == "fc");
        Assert.Equal(1, fc.FeaturesPerChannel);
        Assert.True(stage4.IsPrunable);

        var inner = GroupOf(groups, "layer3.1.conv1");
        Assert.Equal(["layer3.1.bn1"], inner.BatchNorms);
        Assert.Equal(["layer3.1.conv2"], inner.Consumers.Select(c => c.Module));
    }

    [Fact]
    public void Analyze_ResNet56Cifar_ThreeStagesOfNineBlocks()
    {
        var groups = Analyze("resnet56-cifar", 0.25);
        Assert.Equal(1 + 3 + 27 + 1, groups.Count);
        Assert.Equal(10, GroupOf(groups, "conv1").Producers.Count); // stem + 9 conv2
        Assert.Equal(10, GroupOf(groups, "layer2.0.downsample.0").Producers.Count); // downsample + 9 conv2
        Assert.Equal(10, GroupOf(groups, "layer3.8.conv2").Producers.Count);
        Assert.Equal([4, 8, 16], new[] { "conv1", "layer2.0.conv2", "layer3.0.conv2" }.Select(p => GroupOf(groups, p).Channels));
    }

    [Fact]
    public void Analyze_Vgg_ChainOfEightGroups()
    {
        var groups = Analyze("vgg-cifar", 0.1);
        Assert.Equal(10, groups.Count);
        for (int i = 0; i < 8; i++)
        {
            var group = groups[i + 1];
            Assert.Equal(["backbone.conv" + i], group.Producers);
            Assert.Equal(["backbone.bn" + i], group.BatchNorms);
            Assert.Equal([i < 7 ? "backbone.conv" + (i + 1) : "classifier"], group.Consumers.Select(c => c.Module));
        }
        Assert.Equal([6, 13, 26, 26, 51, 51, 51, 51], groups.Skip(1).Take(8).Select(g => g.Channels));
    }

    [Fact]
    public void Analyze_LeNet5_FlattenedFeatureMapGivesTwentyFiveFeaturesPerChannel()
    {
        var groups = Analyze("lenet5", 1.0);
        Assert.Equal(6, groups.Count);
        var conv2 = GroupOf(groups, "conv2");
        Assert.Equal(new ChannelConsumer("fc1", 25), Assert.Single(conv2.Consumers));
        Assert.Equal(16, conv2.Channels);
        Assert.Equal(new ChannelConsumer("fc2", 1), Assert.Single(GroupOf(groups, "fc1").Consumers));
        Assert.True(GroupOf(groups, "fc2").IsPrunable);
    }

    [Theory]
    [InlineData("resnet18", 0.0625)]
    [InlineData("resnet18-cifar", 0.0625)]
    [InlineData("resnet56-cifar", 0.25)]
    [InlineData("vgg-cifar", 0.1)]
    [InlineData("lenet5", 0.5)]
    public void Analyze_EveryArchitecture_InputAndLogitsExcludedAndEveryLayerInExactlyOneGroup(string architecture, double width)
    {
        using var model = ModelFixtures.Create(new ModelOptions { Architecture = architecture, WidthMultiplier = width });
        var groups = ChannelDependencyAnalyzer.Analyze(model);

        var input = groups[0];
        Assert.Equal(ChannelDependencyAnalyzer.NetworkInputReason, input.ExcludedReason);
        Assert.Empty(input.Producers);
        Assert.Equal(model.InputShape.Channels, input.Channels);
        var logits = groups[^1];
        Assert.Equal(ChannelDependencyAnalyzer.LogitsReason, logits.ExcludedReason);
        Assert.Equal(10, logits.Channels);
        Assert.Empty(logits.Consumers);
        Assert.All(groups.Skip(1).SkipLast(1), g => Assert.True(g.IsPrunable));

        var weights = model.OrderedStateDict().Where(s => s.Key.EndsWith(".weight", StringComparison.Ordinal))
            .ToDictionary(s => s.Key[..^".weight".Length], s => s.Value.shape);
        var producers = groups.SelectMany(g => g.Producers).ToList();
        var batchNorms = groups.SelectMany(g => g.BatchNorms).ToList();
        Assert.Equal(weights.Keys.Order(StringComparer.Ordinal), producers.Concat(batchNorms).Order(StringComparer.Ordinal));
        Assert.Equal(weights.Keys.Count(k => weights[k].Length > 1), producers.Count);
        foreach (var group in groups)
        {
            Assert.All(group.Producers, p => Assert.Equal(group.Channels, weights[p][0]));
            Assert.All(group.BatchNorms, b => Assert.Equal(group.Channels, weights[b][0]));
            Assert.All(group.Consumers, c => Assert.Equal((long)group.Channels * c.FeaturesPerChannel, weights[c.Module][1]));
        }
    }

    [Fact]
    public void Analyze_IgnoredBlockConv_ExcludesTheWholeStage()
    {
        var groups = Analyze("resnet18-cifar", 0.125, "layer2.1.conv2");
        var stage2 = GroupOf(groups, "layer2.0.downsample.0");
        Assert.Equal(ChannelDependencyAnalyzer.IgnoredReason, stage2.ExcludedReason);
        Assert.False(stage2.IsPrunable);
        Assert.Equal(3, groups.Count(g => !g.IsPrunable));
    }

    [Fact]
    public void Analyze_IgnoredBatchNorm_ExcludesItsGroup()
    {
        var groups = Analyze("vgg-cifar", 0.1, "backbone.bn3");
        Assert.Equal(ChannelDependencyAnalyzer.IgnoredReason, GroupOf(groups, "backbone.conv3").ExcludedReason);
        Assert.True(GroupOf(groups, "backbone.conv2").IsPrunable);
    }

    [Fact]
    public void Analyze_UnknownIgnoredLayer_ThrowsCmp0702WithSuggestion()
    {
        var e = Assert.Throws<CompressException>(() => Analyze("vgg-cifar", 0.1, "backbone.cnv7"));
        Assert.Equal(DiagnosticCode.UnknownChannelLayer, e.Code);
        Assert.Contains("'backbone.cnv7'", e.Message, StringComparison.Ordinal);
        Assert.Contains("did you mean 'backbone.conv7'?", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Analyze_NodeKindWithoutACouplingRule_ExcludesWhatItReadsWithTheReason()
    {
        using var model = ModelFixtures.Create(new ModelOptions { Architecture = "lenet5", WidthMultiplier = 0.5 });
        var graph = model.DescribeGraph();
        var nodes = graph.Nodes.ToList();
        nodes.Add(new SoftmaxNode("softmax", graph.Output, "probabilities"));
        var shapes = model.OrderedStateDict().ToDictionary(s => s.Key, s => s.Value.shape);
        var groups = ChannelDependencyAnalyzer.Analyze(graph with { Nodes = nodes, Output = "probabilities" }, shapes, model.InputShape);

        var logits = GroupOf(groups, "fc3");
        Assert.Contains("'softmax' is a Softmax, which channel pruning does not follow", logits.ExcludedReason, StringComparison.Ordinal);
        Assert.True(GroupOf(groups, "fc2").IsPrunable);
    }
}

using Compress.Engine.Models;
using Compress.Engine.Models.Graph;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Compress.Engine.Tests.Models;

public class ModelGraphTests
{
    /// <summary>The five architectures' PyTorch fixtures (non-trivial BatchNorm statistics).</summary>
    public static TheoryData<string> Fixtures => new(["resnet18-cifar", "resnet18", "resnet56-cifar", "vgg-cifar", "lenet5"]);

    private static ClassifierModel Load(string fixture)
    {
        var reference = ModelFixtures.Get(fixture);
        var model = ModelFactory.Create(reference.Options);
        Checkpoint.Load(model, reference.CheckpointPath);
        model.eval();
        return model;
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void DescribeGraph_EveryModel_UsesEachConvBatchNormAndLinearModuleOnce(string fixture)
    {
        using var model = Load(fixture);
        var graph = model.DescribeGraph();
        var expected = model.named_modules()
            .Where(m => m.module is Conv2d or BatchNorm2d or Linear)
            .Select(m => m.name).OrderBy(n => n, StringComparer.Ordinal).ToList();
        var described = graph.Nodes.Select(n => n switch
            {
                ConvNode c => c.Module,
                BatchNormNode b => b.Module,
                LinearNode l => l.Module,
                _ => null,
            }).OfType<string>().OrderBy(n => n, StringComparer.Ordinal).ToList();
        Assert.Equal(expected, described);

        // Every parameter and persistent buffer (except BN's batch counter) is reached through exactly one node.
        var used = new List<string>();
        foreach (var node in graph.Nodes)
        {
            switch (node)
            {
                case ConvNode c:
                    used.Add(c.Module + ".weight");
                    if (c.HasBias) used.Add(c.Module + ".bias");
                    break;
                case BatchNormNode b:
                    used.AddRange(new[] { "weight", "bias", "running_mean", "running_var" }.Select(k => b.Module + "." + k));
                    break;
                case LinearNode l:
                    used.Add(l.Module + ".weight");
                    if (l.HasBias) used.Add(l.Module + ".bias");
                    break;
            }
        }
        var keys = model.OrderedStateDict().Select(p => p.Key).Where(k => !k.EndsWith(".num_batches_tracked", StringComparison.Ordinal));
        Assert.Equal(keys.OrderBy(k => k, StringComparer.Ordinal), used.OrderBy(k => k, StringComparer.Ordinal));
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void DescribeGraph_EveryModel_ValuesAreWrittenOnceBeforeTheyAreRead(string fixture)
    {
        using var model = Load(fixture);
        var graph = model.DescribeGraph();
        var defined = new HashSet<string>(StringComparer.Ordinal) { graph.Input };
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var node in graph.Nodes)
        {
            Assert.All(node.Inputs, input => Assert.Contains(input, defined));
            Assert.True(defined.Add(node.Output), $"value {node.Output} written twice");
            Assert.True(names.Add(node.Name), $"node name {node.Name} repeated");
        }
        Assert.Equal(graph.Output, graph.Nodes[^1].Output);
        Assert.Equal("input", graph.Input);
        Assert.Equal("logits", graph.Output);
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void DescribeGraph_Interpreted_GivesTheSameLogitsAsForward(string fixture)
    {
        using var model = Load(fixture);
        var reference = ModelFixtures.Get(fixture);
        using var input = reference.Input();
        using var noGrad = no_grad();
        using var expected = model.call(input);
        using var actual = GraphEvaluator.Run(model, model.DescribeGraph(), input);
        Assert.Equal(expected.shape, actual.shape);
        double scale = Math.Max(expected.abs().max().item<float>(), 1e-6);
        double difference = (expected - actual).abs().max().item<float>();
        Assert.True(difference / scale <= 1e-5, $"{fixture}: relative difference {difference / scale}");
    }

    [Fact]
    public void DescribeGraph_ResNetBlocks_AddShortcutThenRelu()
    {
        using var model = Load("resnet18-cifar");
        var graph = model.DescribeGraph();
        var adds = graph.Nodes.OfType<AddNode>().ToList();
        Assert.Equal(8, adds.Count);
        var add = adds.Single(a => a.Name == "layer2.0.add");
        Assert.Equal(["layer2.0.bn2", "layer2.0.downsample.1"], add.Inputs);
        var identity = adds.Single(a => a.Name == "layer1.0.add");
        Assert.Equal(["layer1.0.bn2", "relu"], identity.Inputs);
        var next = graph.Nodes[graph.Nodes.ToList().IndexOf(add) + 1];
        Assert.IsType<ReluNode>(next);
        Assert.Equal(add.Output, next.Inputs[0]);
    }
}

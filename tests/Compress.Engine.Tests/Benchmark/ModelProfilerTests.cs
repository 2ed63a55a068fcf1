using System.Text.Json;
using Compress.Engine.Benchmark;
using Compress.Engine.Diagnostics;
using Compress.Engine.Export;
using Compress.Engine.Models;
using Compress.Engine.Models.Graph;
using static TorchSharp.torch;

namespace Compress.Engine.Tests.Benchmark;

public sealed class ModelProfilerTests
{
    /// <summary>The lab VGG's MACs as the EfficientML.ai lab (torchprofile) reports them.</summary>
    private const long LabVggMacs = 606_164_480;

    /// <summary>The lab's MACs after its naive 30% channel prune of that VGG.</summary>
    private const long LabVggNaivePruneMacs = 305_388_064;

    private static JsonElement Reference(string name)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(RepoPaths.Fixture("profile", "reference.json")));
        return doc.RootElement.GetProperty("models").EnumerateArray()
            .Single(m => m.GetProperty("name").GetString() == name).Clone();
    }

    private static ClassifierModel Create(string architecture, double width)
    {
        manual_seed(0);
        return ModelFactory.Create(new ModelOptions { Architecture = architecture, WidthMultiplier = width });
    }

    private static Dictionary<string, long[]> Shapes(ClassifierModel model) =>
        model.OrderedStateDict().ToDictionary(p => p.Key, p => p.Value.shape, StringComparer.Ordinal);

    [Fact]
    public void Profile_LabVgg_GivesTheLabsMacsAndTheModelsParameterCount()
    {
        using var model = Create("vgg-cifar", 1);

        var p = ModelProfiler.Profile(model);

        Assert.Equal(LabVggMacs, p.Macs);
        Assert.Equal(model.ParameterCount(), p.Parameters);
        Assert.Equal(4 * p.Parameters, p.ParameterBytes);
        // Running mean and variance of the eight BatchNorms: 2 x (64 + 128 + 256 + 256 + 4 x 512) elements.
        Assert.Equal(p.ParameterBytes + (4L * 2 * (64 + 128 + 256 + 256 + (4 * 512))), p.StateBytes);
        Assert.Equal(new long[] { 3, 32, 32 }, p.InputShape);
        var conv0 = p.Layers.Single(l => l.Name == "backbone.conv0");
        Assert.Equal("Conv", conv0.Kind);
        Assert.Equal(new long[] { 64, 32, 32 }, conv0.OutputShape);
        Assert.Equal(64L * 32 * 32 * 3 * 3 * 3, conv0.Macs);
        Assert.Equal(64L * 3 * 3 * 3, conv0.Parameters);
        var bn7 = p.Layers.Single(l => l.Name == "backbone.bn7");
        Assert.Equal(512L * 4 * 4, bn7.Macs);
        Assert.Equal(4L * 2 * 512, bn7.Bytes);
        Assert.Equal(4L * 4 * 512, bn7.StateBytes);
        var gap = p.Layers.Single(l => l.Kind == "GlobalAveragePool");
        Assert.Equal(new long[] { 512, 1, 1 }, gap.OutputShape);
        Assert.Equal(512, gap.Macs);
        Assert.All(p.Layers.Where(l => l.Kind is "Relu" or "MaxPool" or "Flatten"), l => Assert.Equal(0, l.Macs));
        Assert.Equal(new long[] { 10 }, p.Layers[^1].OutputShape);
        Assert.Equal(512 * 10, p.Layers[^1].Macs);
    }

    [Fact]
    public void Profile_LabNaiveChannelPruneShapes_GivesTheLabsMacs()
    {
        // The lab's channel_prune(model, 0.3): every conv but the last keeps its first int(round(c * 0.7)) output
        // channels; the next conv loses the same input channels and the BatchNorm shrinks with its conv. The shape
        // dictionary is built here from that rule alone; the graph does not depend on the width.
        int[] dense = [64, 128, 256, 256, 512, 512, 512, 512];
        int[] kept = [.. dense.Select((c, i) => i < dense.Length - 1 ? (int)Math.Round(c * 0.7) : c)];
        Assert.Equal(new[] { 45, 90, 179, 179, 358, 358, 358, 512 }, kept);
        var shapes = new Dictionary<string, long[]>(StringComparer.Ordinal);
        int inChannels = 3;
        for (int i = 0; i < kept.Length; i++)
        {
            string conv = $"backbone.conv{i}", bn = $"backbone.bn{i}";
            shapes[conv + ".weight"] = [kept[i], inChannels, 3, 3];
            foreach (string key in new[] { "weight", "bias", "running_mean", "running_var" }) shapes[bn + "." + key] = [kept[i]];
            inChannels = kept[i];
        }
        shapes["classifier.weight"] = [10, 512];
        shapes["classifier.bias"] = [10];
        using var small = Create("vgg-cifar", 0.0625);

        var p = ModelProfiler.Profile(small.DescribeGraph(), shapes, small.InputShape);

        Assert.Equal(LabVggNaivePruneMacs, p.Macs);
        var reference = Reference("vgg-cifar-naive-0.3");
        Assert.Equal(reference.GetProperty("macs").GetInt64(), p.Macs);
        Assert.Equal(reference.GetProperty("parameters").GetInt64(), p.Parameters);
        Assert.Equal(4 * reference.GetProperty("state").GetInt64(), p.StateBytes);
        Assert.Equal(new long[] { 45, 32, 32 }, p.Layers.Single(l => l.Name == "backbone.bn0").OutputShape);
        Assert.Equal(512L * 4 * 4 * 358 * 9, p.Layers.Single(l => l.Name == "backbone.conv7").Macs);
    }

    [Theory]
    [InlineData("vgg-cifar-0.1", "vgg-cifar", 0.1)]
    [InlineData("lenet5", "lenet5", 1.0)]
    [InlineData("resnet18-cifar-0.25", "resnet18-cifar", 0.25)]
    [InlineData("resnet56-cifar-0.25", "resnet56-cifar", 0.25)]
    [InlineData("resnet18-0.125", "resnet18", 0.125)]
    public void Profile_BuiltInArchitecture_MatchesTorchprofile(string reference, string architecture, double width)
    {
        var expected = Reference(reference);
        using var model = Create(architecture, width);
        Assert.Equal(expected.GetProperty("inputShape").EnumerateArray().Select(d => d.GetInt64()),
            new long[] { model.InputShape.Channels, model.InputShape.Height, model.InputShape.Width });

        var p = ModelProfiler.Profile(model);

        Assert.Equal(expected.GetProperty("macs").GetInt64(), p.Macs);
        Assert.Equal(expected.GetProperty("parameters").GetInt64(), p.Parameters);
        Assert.Equal(model.ParameterCount(), p.Parameters);
        Assert.Equal(4 * expected.GetProperty("state").GetInt64(), p.StateBytes);
    }

    [Theory]
    [InlineData("resnet18-cifar", 0.25)]
    [InlineData("vgg-cifar", 0.25)]
    public void Profile_UnfoldedOnnxExport_AgreesWithOnnxProfileNodeByNode(string architecture, double width)
    {
        using var model = Create(architecture, width);
        var onnx = OnnxProfile.Measure(OnnxExporter.Export(model, new OnnxExportOptions { FoldBatchNorm = false }));

        var p = ModelProfiler.Profile(model);

        // Both count the global average pool as torchprofile does: one MAC per output element.
        var gap = p.Layers.Single(l => l.Kind == "GlobalAveragePool");
        Assert.Equal(gap.OutputShape[0], gap.Macs);
        Assert.Equal(onnx.Macs, p.Macs);
        // ONNX stores the BatchNorm running statistics as initializers: its parameters are our state elements.
        Assert.Equal(onnx.Parameters * 4, p.StateBytes);
        Assert.Equal(model.ParameterCount(), p.Parameters);
        Assert.Equal(onnx.Nodes.Count, p.Layers.Count);
        foreach (var layer in p.Layers)
        {
            var node = onnx.Nodes.Single(n => n.Name == layer.Name);
            Assert.Equal(node.OutputShape, layer.OutputShape);
            Assert.Equal(node.Macs, layer.Macs);
            Assert.Equal(node.Parameters * 4, layer.StateBytes);
        }
    }

    [Fact]
    public void Profile_GroupedDilatedStridedConv_OutputShapeAsTorchAndMacsByTheRule()
    {
        // Input 4x11x9; conv: 6 outputs, 2 groups (2 inputs each), 3x2 kernel, stride 2, padding 1, dilation 2, bias.
        var graph = new ModelGraph("input", "logits",
        [
            new ConvNode("conv", "input", "conv", "conv", 2, 1, Dilation: 2, Groups: 2, HasBias: true),
            new MaxPoolNode("pool", "conv", "pool", 3, 2, 1),
            new GlobalAveragePoolNode("gap", "pool", "gap"),
            new FlattenNode("flatten", "gap", "flatten"),
            new LinearNode("fc", "flatten", "logits", "fc"),
        ]);
        var shapes = new Dictionary<string, long[]>
        {
            ["conv.weight"] = [6, 2, 3, 2], ["conv.bias"] = [6], ["fc.weight"] = [5, 6], ["fc.bias"] = [5],
        };
        long[] convShape, poolShape;
        using (var scope = NewDisposeScope())
        {
            var y = nn.functional.conv2d(zeros(1, 4, 11, 9), zeros(6, 2, 3, 2), zeros(6), strides: [2, 2], padding: [1, 1],
                dilation: [2, 2], groups: 2);
            convShape = y.shape[1..];
            poolShape = nn.functional.max_pool2d(y, [3, 3], [2, 2], [1, 1]).shape[1..];
        }

        var p = ModelProfiler.Profile(graph, shapes, new InputShape(4, 11, 9));

        var conv = p.Layers[0];
        Assert.Equal(convShape, conv.OutputShape);
        Assert.Equal(convShape.Aggregate(1L, (a, b) => a * b) * 2 * 3 * 2, conv.Macs);
        Assert.Equal((6 * 2 * 3 * 2) + 6, conv.Parameters);
        Assert.Equal(poolShape, p.Layers[1].OutputShape);
        Assert.Equal(0, p.Layers[1].Macs);
        Assert.Equal(6, p.Layers[2].Macs);
        Assert.Equal(30, p.Layers[4].Macs);
        Assert.Equal(conv.Macs + 6 + 30, p.Macs);
        Assert.Equal(conv.Parameters + 35, p.Parameters);
    }

    [Fact]
    public void Profile_ConvInputChannelsDoNotChain_ThrowsCmp0106NamingTheKey()
    {
        using var model = Create("vgg-cifar", 0.0625);
        var shapes = Shapes(model);
        var w = shapes["backbone.conv0.weight"];
        shapes["backbone.conv0.weight"] = [w[0] - 1, w[1], w[2], w[3]];
        foreach (string key in new[] { "weight", "bias", "running_mean", "running_var" }) shapes["backbone.bn0." + key] = [w[0] - 1];

        var e = Assert.Throws<CompressException>(() => ModelProfiler.Profile(model.DescribeGraph(), shapes, model.InputShape));

        Assert.Equal(DiagnosticCode.ShapeMismatch, e.Code);
        Assert.Contains("backbone.conv1.weight", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Profile_ResidualBranchNarrowerThanShortcut_ThrowsCmp0106NamingTheAdd()
    {
        using var model = Create("resnet18-cifar", 0.25);
        var shapes = Shapes(model);
        var w = shapes["layer1.0.conv2.weight"];
        shapes["layer1.0.conv2.weight"] = [w[0] - 2, w[1], w[2], w[3]];
        foreach (string key in new[] { "weight", "bias", "running_mean", "running_var" }) shapes["layer1.0.bn2." + key] = [w[0] - 2];

        var e = Assert.Throws<CompressException>(() => ModelProfiler.Profile(model.DescribeGraph(), shapes, model.InputShape));

        Assert.Equal(DiagnosticCode.ShapeMismatch, e.Code);
        Assert.Contains("layer1.0.add", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Profile_MissingRunningVariance_ThrowsCmp0104NamingTheKey()
    {
        using var model = Create("resnet18-cifar", 0.0625);
        var shapes = Shapes(model);
        shapes.Remove("layer2.0.downsample.1.running_var");

        var e = Assert.Throws<CompressException>(() => ModelProfiler.Profile(model.DescribeGraph(), shapes, model.InputShape));

        Assert.Equal(DiagnosticCode.MissingKeys, e.Code);
        Assert.Contains("layer2.0.downsample.1.running_var", e.Message, StringComparison.Ordinal);
    }
}

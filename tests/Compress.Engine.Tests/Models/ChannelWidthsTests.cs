using Compress.Engine.Diagnostics;
using Compress.Engine.Models;
using Compress.Engine.Pipeline;
using Compress.Engine.Tests.Data;
using static TorchSharp.torch;

namespace Compress.Engine.Tests.Models;

public class ChannelWidthsTests
{
    private static readonly ModelOptions TinyResNet = new() { Architecture = "resnet18-cifar", WidthMultiplier = 0.125 };

    private static Dictionary<string, long[]> Shapes(ClassifierModel model) =>
        model.OrderedStateDict().ToDictionary(s => s.Key, s => s.Value.shape);

    [Fact]
    public void Defaults_ResNet18Cifar_ListsEveryConvolutionInModuleOrder()
    {
        var defaults = ChannelWidths.Defaults(TinyResNet);
        Assert.Equal(1 + 8 * 2 + 3, defaults.Count);
        Assert.Equal(["conv1", "layer1.0.conv1", "layer1.0.conv2", "layer1.1.conv1"], defaults.Keys.Take(4));
        Assert.Equal(["layer2.0.conv1", "layer2.0.conv2", "layer2.0.downsample.0"], defaults.Keys.Skip(5).Take(3));
        Assert.Equal(8, defaults["conv1"]);
        Assert.Equal(64, defaults["layer4.1.conv2"]);
        Assert.Equal(["conv1", "conv2", "fc1", "fc2"], ChannelWidths.Defaults(new ModelOptions { Architecture = "lenet5" }).Keys);
    }

    [Fact]
    public void Create_WithChannels_BuildsTheNarrowerLayers()
    {
        var options = TinyResNet with
        {
            Channels = new Dictionary<string, int>
            {
                ["layer1.0.conv1"] = 3,
                ["layer2.0.conv2"] = 5, ["layer2.0.downsample.0"] = 5, ["layer2.1.conv2"] = 5,
            },
        };
        using var model = ModelFactory.Create(options);
        var shapes = Shapes(model);
        Assert.Equal([3L, 8, 3, 3], shapes["layer1.0.conv1.weight"]);
        Assert.Equal([8L, 3, 3, 3], shapes["layer1.0.conv2.weight"]);
        Assert.Equal([5L, 8, 1, 1], shapes["layer2.0.downsample.0.weight"]);
        Assert.Equal([16L, 5, 3, 3], shapes["layer2.1.conv1.weight"]);
        Assert.Equal([32L, 5, 3, 3], shapes["layer3.0.conv1.weight"]);
        Assert.Equal([5L], shapes["layer2.1.bn2.running_mean"]);
        model.eval();
        using var scope = NewDisposeScope();
        Assert.Equal([2L, 10], model.call(randn(2, 3, 32, 32)).shape);
    }

    [Fact]
    public void Create_PrunedWidthsEqualAcrossStages_KeepsTheArchitecturesDownsamples()
    {
        // Stage 1 and stage 2 both 4 wide: layer2.0 still has its (stride-2) projection, layer1.0 still has none.
        var channels = new Dictionary<string, int> { ["conv1"] = 4, ["layer1.0.conv2"] = 4, ["layer1.1.conv2"] = 4 };
        foreach (string p in new[] { "layer2.0.conv2", "layer2.0.downsample.0", "layer2.1.conv2" }) channels[p] = 4;
        using var model = ModelFactory.Create(TinyResNet with { Channels = channels });
        var shapes = Shapes(model);
        Assert.Equal([4L, 4, 1, 1], shapes["layer2.0.downsample.0.weight"]);
        Assert.False(shapes.ContainsKey("layer1.0.downsample.0.weight"));
    }

    [Fact]
    public void Create_TiedWidthsDiffer_ThrowsCmp0102NamingThem()
    {
        var e = Assert.Throws<CompressException>(() => ModelFactory.Create(TinyResNet with
        {
            Channels = new Dictionary<string, int> { ["layer3.1.conv2"] = 7 },
        }));
        Assert.Equal(DiagnosticCode.InvalidModelOption, e.Code);
        Assert.Contains("'layer3.1.conv2' 7", e.Message, StringComparison.Ordinal);
        Assert.Contains("'layer3.0.downsample.0' 32", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Create_UnknownChannelKey_ThrowsCmp0102WithSuggestion()
    {
        var e = Assert.Throws<CompressException>(() => ModelFactory.Create(new ModelOptions
        {
            Architecture = "vgg-cifar",
            WidthMultiplier = 0.1,
            Channels = new Dictionary<string, int> { ["backbone.conv9"] = 3 },
        }));
        Assert.Equal(DiagnosticCode.InvalidModelOption, e.Code);
        Assert.Contains("did you mean 'backbone.conv0'?", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Create_ZeroChannels_ThrowsCmp0102()
    {
        var e = Assert.Throws<CompressException>(() => ModelFactory.Create(new ModelOptions
        {
            Architecture = "lenet5",
            Channels = new Dictionary<string, int> { ["fc2"] = 0 },
        }));
        Assert.Equal(DiagnosticCode.InvalidModelOption, e.Code);
        Assert.Contains("'fc2'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ModelOptions_ChannelsCompareByContent()
    {
        var a = TinyResNet with { Channels = new Dictionary<string, int> { ["conv1"] = 4, ["layer1.0.conv1"] = 2 } };
        var b = TinyResNet with { Channels = new SortedDictionary<string, int> { ["layer1.0.conv1"] = 2, ["conv1"] = 4 } };
        var c = TinyResNet with { Channels = new Dictionary<string, int> { ["conv1"] = 4, ["layer1.0.conv1"] = 3 } };
        Assert.Equal(a, b);
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
        Assert.NotEqual(a, c);
        Assert.Equal(TinyResNet, TinyResNet with { Channels = new Dictionary<string, int>() });
        Assert.Null((TinyResNet with { Channels = new Dictionary<string, int>() }).Channels);
        Assert.Contains("Channels = { conv1: 4, layer1.0.conv1: 2 }", a.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void FitStateDict_NarrowerConsistentCheckpoint_GivesItsWidths()
    {
        var channels = new Dictionary<string, int> { ["layer4.0.conv1"] = 9 };
        using var narrow = ModelFactory.Create(TinyResNet with { Channels = channels });
        var state = narrow.OrderedStateDict().ToDictionary(s => s.Key, s => new TensorData("F32", s.Value.shape, []));
        Assert.Equal(new Dictionary<string, int> { ["layer4.0.conv1"] = 9 }, ChannelWidths.FromStateDict(TinyResNet, state));
        Assert.Equal(narrow.Options, ChannelWidths.FitStateDict(TinyResNet, state));
    }

    [Fact]
    public void FitStateDict_WiderCheckpoint_LeavesTheOptionsAlone()
    {
        using var wide = ModelFactory.Create(TinyResNet with { WidthMultiplier = 0.25 });
        var state = wide.OrderedStateDict().ToDictionary(s => s.Key, s => new TensorData("F32", s.Value.shape, []));
        Assert.Same(TinyResNet, ChannelWidths.FitStateDict(TinyResNet, state));
    }

    [Fact]
    public void Loader_CheckpointWithUnequalResidualWidths_ThrowsCmp0106()
    {
        // A stage whose blocks disagree cannot be a pruned resnet: the loader does not guess, loading reports the shapes.
        using var model = ModelFactory.Create(TinyResNet);
        using var folder = new TempDirectory();
        string path = folder.Combine("bad.safetensors");
        Checkpoint.SaveSafetensors(model, path);
        var tensors = Checkpoint.ReadSafetensors(path).ToList();
        int i = tensors.FindIndex(t => t.Key == "layer1.1.conv2.weight");
        tensors[i] = new("layer1.1.conv2.weight", new TensorData("F32", [7, 8, 3, 3], new byte[7 * 8 * 9 * 4]));
        SafetensorsFile.Write(path, tensors.Select(t => (t.Key, t.Value)).ToList(), null);

        var e = Assert.Throws<CompressException>(() => ModelLoader.Create(TinyResNet, path, CPU, seed: 0));
        Assert.Equal(DiagnosticCode.ShapeMismatch, e.Code);
        Assert.Contains("'layer1.1.conv2.weight'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ModelOptions_Json_OmitsNullChannelsAndWritesGivenOnes()
    {
        string plain = Compress.Engine.Reporting.JsonOutput.Serialize(TinyResNet);
        Assert.DoesNotContain("channels", plain, StringComparison.Ordinal);
        string pruned = Compress.Engine.Reporting.JsonOutput.Serialize(TinyResNet with { Channels = new Dictionary<string, int> { ["layer1.0.conv1"] = 3 } });
        Assert.Contains("\"layer1.0.conv1\": 3", pruned, StringComparison.Ordinal);
    }
}

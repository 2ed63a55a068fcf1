using Compress.Engine.Diagnostics;
using Compress.Engine.Models;
using static TorchSharp.torch;

namespace Compress.Engine.Tests.Models;

public class ModelFactoryTests
{
    public static TheoryData<string> FixtureNames => new(ModelFixtures.Names);

    [Fact]
    public void Architectures_Always_ListsTheFiveBuiltInModels()
    {
        Assert.Equal(["resnet18", "resnet18-cifar", "resnet56-cifar", "vgg-cifar", "lenet5"], ModelFactory.Architectures);
    }

    [Fact]
    public void Create_UnknownArchitecture_ThrowsCmp0101ListingKnownNames()
    {
        var e = Assert.Throws<CompressException>(() => ModelFactory.Create(new ModelOptions { Architecture = "resnet99" }));
        Assert.Equal(DiagnosticCode.UnknownArchitecture, e.Code);
        Assert.Contains("resnet99", e.Message, StringComparison.Ordinal);
        foreach (string name in ModelFactory.Architectures) Assert.Contains(name, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(-0.5)]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    public void Create_InvalidWidth_ThrowsCmp0102(double width)
    {
        var e = Assert.Throws<CompressException>(() => ModelFactory.Create(new ModelOptions { WidthMultiplier = width }));
        Assert.Equal(DiagnosticCode.InvalidModelOption, e.Code);
        Assert.Contains("Width multiplier", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(0)]
    [InlineData(-3)]
    public void Create_FewerThanTwoClasses_ThrowsCmp0102(int classes)
    {
        var e = Assert.Throws<CompressException>(() =>
            ModelFactory.Create(new ModelOptions { Architecture = "lenet5", Classes = classes }));
        Assert.Equal(DiagnosticCode.InvalidModelOption, e.Code);
        Assert.Contains("Class count", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Create_NameInOtherCase_ReturnsModelWithCanonicalName()
    {
        using var model = ModelFactory.Create(new ModelOptions { Architecture = " LeNet5 " });
        Assert.Equal("lenet5", model.Options.Architecture);
        Assert.Equal("lenet5", model.Options.Architecture);
    }

    [Theory]
    [InlineData("resnet18", 3, 224, 224)]
    [InlineData("resnet18-cifar", 3, 32, 32)]
    [InlineData("resnet56-cifar", 3, 32, 32)]
    [InlineData("vgg-cifar", 3, 32, 32)]
    [InlineData("lenet5", 1, 28, 28)]
    public void Create_EachArchitecture_NaturalInputGivesOneLogitPerClass(string name, int c, int h, int w)
    {
        using var model = ModelFactory.Create(new ModelOptions { Architecture = name, WidthMultiplier = 0.0625, Classes = 7 });
        Assert.Equal(new InputShape(c, h, w), model.InputShape);
        model.eval();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var logits = model.call(randn(2, c, h, w));
        Assert.Equal([2L, 7L], logits.shape);
    }

    [Theory]
    [MemberData(nameof(FixtureNames))]
    public void Create_WidthOne_ParameterCountMatchesPyTorch(string fixture)
    {
        var reference = ModelFixtures.Get(fixture);
        using var model = ModelFactory.Create(reference.Options with { WidthMultiplier = 1.0 });
        Assert.Equal(reference.ParameterCountWidth1, model.ParameterCount());
    }

    [Fact]
    public void Create_ResNet18CifarWidthOne_HasThePublishedParameterCount()
    {
        // Also pinned by the PyTorch reference; this is the number the issue and the literature quote.
        using var model = ModelFactory.Create(new ModelOptions { Architecture = "resnet18-cifar" });
        Assert.Equal(11_173_962L, model.ParameterCount());
    }

    [Theory]
    [MemberData(nameof(FixtureNames))]
    public void Create_FixtureWidth_KeysShapesAndCountMatchPyTorch(string fixture)
    {
        var reference = ModelFixtures.Get(fixture);
        using var model = ModelFactory.Create(reference.Options);
        Assert.Equal(reference.ParameterOrder, model.named_parameters().Select(p => p.name).ToArray());
        var state = model.OrderedStateDict();
        Assert.Equal(reference.StateDictOrder, state.Select(s => s.Key).ToArray());
        for (int i = 0; i < state.Count; i++) Assert.Equal(reference.StateDictShapes[i], state[i].Value.shape);
        Assert.Equal(reference.ParameterCount, model.ParameterCount());
    }

    [Fact]
    public void Create_SameSeed_GivesIdenticalWeightsAndOtherSeedDiffers()
    {
        var options = new ModelOptions { Architecture = "resnet18-cifar", WidthMultiplier = 0.125 };
        using var a = ModelFixtures.Create(options, seed: 5);
        using var b = ModelFixtures.Create(options, seed: 5);
        using var c = ModelFixtures.Create(options, seed: 6);
        var pa = a.parameters().ToList();
        var pb = b.parameters().ToList();
        var pc = c.parameters().ToList();
        Assert.All(Enumerable.Range(0, pa.Count), i => Assert.True(pa[i].allclose(pb[i], rtol: 0, atol: 0)));
        Assert.False(pa[0].allclose(pc[0], rtol: 0, atol: 0));
    }

    [Fact]
    public void Create_ResNet_InitialisesConvolutionsLikeTorchvision()
    {
        // Kaiming-normal, fan-out, ReLU gain: std = sqrt(2 / (out_channels * k * k)). conv1 of resnet18-cifar at width 1
        // has 64 * 3 * 3 * 3 = 1728 weights, so the sample std is within a few percent of sqrt(2 / 576).
        using var model = ModelFixtures.Create(new ModelOptions { Architecture = "resnet18-cifar" }, seed: 1);
        var weight = model.named_parameters().First(p => p.name == "layer1.0.conv1.weight").parameter;
        double std = weight.std().item<float>();
        Assert.InRange(std, Math.Sqrt(2.0 / (64 * 9)) * 0.97, Math.Sqrt(2.0 / (64 * 9)) * 1.03);
        var bnWeight = model.named_parameters().First(p => p.name == "bn1.weight").parameter;
        Assert.Equal(64f, bnWeight.sum().item<float>());
    }

    [Fact]
    public void Create_ResNet56_UsesProjectionShortcutOnlyWhereShapeChanges()
    {
        using var model = ModelFactory.Create(new ModelOptions { Architecture = "resnet56-cifar" });
        var downsampled = model.named_parameters().Select(p => p.name)
            .Where(n => n.Contains(".downsample.0.weight", StringComparison.Ordinal)).ToArray();
        Assert.Equal(["layer2.0.downsample.0.weight", "layer3.0.downsample.0.weight"], downsampled);
    }

    [Theory]
    [InlineData("resnet18-cifar")]
    [InlineData("resnet56-cifar")]
    [InlineData("vgg-cifar")]
    [InlineData("lenet5")]
    public void Create_TrainModeBackward_EveryParameterGetsAFiniteNonZeroGradient(string name)
    {
        // The forward passes dispose their intermediates; autograd must still reach every parameter.
        using var model = ModelFixtures.Create(new ModelOptions { Architecture = name, WidthMultiplier = 0.125 }, seed: 2);
        model.train();
        var shape = model.InputShape;
        using (var scope = NewDisposeScope())
        {
            random.manual_seed(3);
            var loss = nn.functional.cross_entropy(model.call(randn(4, shape.Channels, shape.Height, shape.Width)),
                tensor(new long[] { 0, 1, 2, 3 }));
            loss.backward();
        }
        foreach (var (pname, p) in model.named_parameters())
        {
            Assert.NotNull(p.grad);
            using var norm = p.grad!.norm();
            float n = norm.item<float>();
            Assert.True(float.IsFinite(n) && n > 0, $"{pname}: gradient norm {n}");
        }
    }
}

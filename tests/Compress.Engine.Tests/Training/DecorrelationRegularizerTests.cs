using System.Text.Json;
using Compress.Engine.Training;
using static TorchSharp.torch;

namespace Compress.Engine.Tests.Training;

public class DecorrelationRegularizerTests
{
    private sealed record Case(string Name, long[] Shape, double[] Values, double Penalty, double[] Gradient, double MeanAbsCorrelation);

    private sealed record Reference(Case[] Cases);

    private static readonly JsonSerializerOptions JsonOptions = new() { PropertyNameCaseInsensitive = true };

    private static Case[] Cases() => JsonSerializer.Deserialize<Reference>(
        File.ReadAllText(RepoPaths.Fixture("decorrelation", "reference.json")), JsonOptions)!.Cases;

    [Theory]
    [InlineData("conv3x3")]
    [InlineData("conv1x1")]
    [InlineData("linear")]
    public void Penalty_ValueAndGradientMatchPyTorch(string name)
    {
        var c = Cases().Single(x => x.Name == name);
        using var weight = tensor(c.Values, c.Shape, dtype: ScalarType.Float64).requires_grad_(true);
        using var r = DecorrelationRegularizer.Penalty(weight);
        Assert.True(r.item<double>() > 0.1, "not a no-op"); // the source project's version returns 0 on these kernels
        Assert.Equal(c.Penalty, r.item<double>(), 10);
        r.backward();
        var gradient = weight.grad!.data<double>().ToArray();
        for (int i = 0; i < gradient.Length; i++) Assert.True(Math.Abs(c.Gradient[i] - gradient[i]) < 1e-9, $"{name} gradient {i}");
    }

    [Fact]
    public void Descent_LowersTheMeanOffDiagonalCorrelation()
    {
        // The 3x3 layer (no perfectly correlated pair: at |r| = 1 the gradient vanishes).
        var c = Cases().Single(x => x.Name == "conv3x3");
        using var weight = tensor(c.Values, c.Shape, dtype: ScalarType.Float64).requires_grad_(true);
        double before = DecorrelationRegularizer.Penalty(weight).item<double>();
        for (int step = 0; step < 20; step++)
        {
            using var r = DecorrelationRegularizer.Penalty(weight);
            r.backward();
            using (no_grad())
            {
                weight.sub_(weight.grad!.mul(0.5));
                weight.grad!.zero_();
            }
        }
        double after = DecorrelationRegularizer.Penalty(weight).item<double>();
        Assert.True(after < 0.7 * before, $"{before} -> {after}");
    }

    [Fact]
    public void Trainer_WithAlpha_EndsLessCorrelatedThanWithout()
    {
        double Train(double alpha)
        {
            manual_seed(0);
            using var model = Compress.Engine.Models.ModelFactory.Create(TinySetup.TinyResNet);
            new Trainer(model, CPU).Train(TinySetup.Data.Train, Compress.Engine.Data.Normalization.FromDataset(TinySetup.Data.Train),
                new TrainingOptions { Epochs = 1, BatchSize = 64, Sgd = new SgdOptions { LearningRate = 0.05, Momentum = 0.9 }, Decorrelation = alpha });
            using var noGrad = no_grad();
            using var total = DecorrelationRegularizer.Total(model);
            return total.item<float>();
        }
        double without = Train(0), with = Train(5);
        Assert.True(with < 0.8 * without, $"sum R: {without} without, {with} with alpha 5");
    }

    [Fact]
    public void Options_NegativeAlpha_IsInvalid()
    {
        var e = Assert.Throws<Compress.Engine.Diagnostics.CompressException>(() => new TrainingOptions { Decorrelation = -1 }.Validate());
        Assert.Contains("decorrelation", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("conv3x3")]
    [InlineData("conv1x1")]
    [InlineData("linear")]
    public void MeanAbsoluteCorrelation_MatchesPyTorch(string name)
    {
        var c = Cases().Single(x => x.Name == name);
        using var weight = tensor(c.Values, c.Shape, dtype: ScalarType.Float64);
        Assert.Equal(c.MeanAbsCorrelation, DecorrelationRegularizer.MeanAbsoluteCorrelation(weight)!.Value, 10);
    }

    [Fact]
    public void Literal_IsZeroOnThreeByThreeAndOneByOneKernels_AndCountsTwoRowKernels()
    {
        using var threeByThree = nn.Sequential(("conv", nn.Conv2d(3, 8, 3)), ("pointwise", nn.Conv2d(8, 8, 1)));
        using (var literal = DecorrelationRegularizer.Total(threeByThree, variant: DecorrelationVariant.Literal))
        using (var pearson = DecorrelationRegularizer.Total(threeByThree))
        {
            Assert.Equal(0, literal.item<float>());
            Assert.True(pearson.item<float>() > 0.01f);
        }
        using var twoRows = nn.Sequential(("conv", nn.Conv2d(3, 8, (2L, 3L))));
        using var counted = DecorrelationRegularizer.Total(twoRows, variant: DecorrelationVariant.Literal);
        Assert.True(counted.item<float>() > 0.01f);
    }

    [Fact]
    public void Trainer_LiteralVariantOnThreeByThreeKernels_WarnsWithItsCode()
    {
        var sink = new Compress.Engine.Diagnostics.CollectingSink();
        manual_seed(0);
        using var model = Compress.Engine.Models.ModelFactory.Create(TinySetup.TinyResNet);
        new Trainer(model, CPU, sink).Train(TinySetup.Data.Train, Compress.Engine.Data.Normalization.FromDataset(TinySetup.Data.Train),
            new TrainingOptions { Epochs = 1, BatchSize = 160, Decorrelation = 0.7, DecorrelationVariant = DecorrelationVariant.Literal });
        var warning = Assert.Single(sink.Diagnostics, d => d.Code == Compress.Engine.Diagnostics.DiagnosticCode.LiteralDecorrelationInactive);
        Assert.Contains("two rows", warning.Message, StringComparison.Ordinal);
    }
}

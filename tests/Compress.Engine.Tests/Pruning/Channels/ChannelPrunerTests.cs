using Compress.Engine.Diagnostics;
using Compress.Engine.Export;
using Compress.Engine.Models;
using Compress.Engine.Pipeline;
using Compress.Engine.Pruning.Channels;
using Compress.Engine.Tests.Data;
using Compress.Engine.Tests.Export;
using Compress.Engine.Tests.Models;
using Google.Protobuf;
using TorchSharp;
using static TorchSharp.torch;

namespace Compress.Engine.Tests.Pruning.Channels;

public class ChannelPrunerTests
{
    private static readonly ChannelPruningOptions Half = new() { Ratio = 0.5 };

    private static ClassifierModel Tiny(string architecture, double width, long seed = 0)
    {
        var model = ModelFixtures.Create(new ModelOptions { Architecture = architecture, WidthMultiplier = width }, seed);
        model.eval();
        return model;
    }

    private static Dictionary<string, long[]> Shapes(ClassifierModel model) =>
        model.OrderedStateDict().ToDictionary(s => s.Key, s => s.Value.shape);

    private static float[] Logits(ClassifierModel model, Tensor input)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        return model.call(input).data<float>().ToArray();
    }

    private static void AssertClose(double[] expected, float[] actual, double tolerance)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance, $"logit {i}: expected {expected[i]}, got {actual[i]}");
    }

    /// <summary>Every consumer's input channels equal its producer group's width in the pruned model.</summary>
    private static void AssertWellFormed(ClassifierModel pruned)
    {
        var shapes = Shapes(pruned);
        foreach (var group in ChannelDependencyAnalyzer.Analyze(pruned))
        {
            Assert.All(group.Producers, p => Assert.Equal(group.Channels, shapes[p + ".weight"][0]));
            Assert.All(group.Consumers, c => Assert.Equal((long)group.Channels * c.FeaturesPerChannel, shapes[c.Module + ".weight"][1]));
        }
        using var input = randn(3, pruned.InputShape.Channels, pruned.InputShape.Height, pruned.InputShape.Width,
            generator: new Generator(1));
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        Assert.Equal([3L, pruned.Options.Classes], pruned.call(input).shape);
    }

    [Fact]
    public void Prune_ResNet18Cifar_StageWidthsCoupledAndForwardWorks()
    {
        using var model = Tiny("resnet18-cifar", 0.125);
        using var result = ChannelPruner.Prune(model, Half);
        var shapes = Shapes(result.Model);

        // Stage 1 (with the stem), stage 2 (with its downsample): one width each, half of 8 and 16.
        Assert.All(new[] { "conv1", "layer1.0.conv2", "layer1.1.conv2" }, p => Assert.Equal(4, shapes[p + ".weight"][0]));
        Assert.All(new[] { "layer2.0.conv2", "layer2.0.downsample.0", "layer2.1.conv2" }, p => Assert.Equal(8, shapes[p + ".weight"][0]));
        Assert.Equal([8L], shapes["layer2.0.downsample.1.running_var"]);
        Assert.Equal(4, shapes["layer2.0.downsample.0.weight"][1]);
        Assert.Equal(4, shapes["layer2.0.conv1.weight"][1]);
        Assert.Equal([10L, 32L], shapes["fc.weight"]);
        Assert.Equal([8L, 8L, 3L, 3L], shapes["layer2.1.conv2.weight"]);
        AssertWellFormed(result.Model);
        Assert.True(result.ParametersAfter < result.ParametersBefore / 3);
        Assert.Equal(result.Model.ParameterCount(), result.ParametersAfter);
    }

    [Fact]
    public void Prune_ResNet56Cifar_EveryBlockOfAStageKeepsTheSameWidth()
    {
        using var model = Tiny("resnet56-cifar", 0.25);
        using var result = ChannelPruner.Prune(model, new ChannelPruningOptions { Ratio = 0.3 });
        var shapes = Shapes(result.Model);
        for (int stage = 1; stage <= 3; stage++)
        {
            var outs = Enumerable.Range(0, 9).Select(b => shapes[$"layer{stage}.{b}.conv2.weight"][0]).ToList();
            long expected = ChannelPruner.KeptChannels(4 << (stage - 1), 0.3);
            Assert.All(outs, o => Assert.Equal(expected, o));
            if (stage > 1) Assert.Equal(expected, shapes[$"layer{stage}.0.downsample.0.weight"][0]);
            else Assert.Equal(expected, shapes["conv1.weight"][0]);
            Assert.False(shapes.ContainsKey("layer1.0.downsample.0.weight"));
        }
        AssertWellFormed(result.Model);
    }

    [Fact]
    public void Prune_Vgg_EachConvShrinksAndTheClassifierFollows()
    {
        using var model = Tiny("vgg-cifar", 0.1);
        using var result = ChannelPruner.Prune(model, Half);
        var shapes = Shapes(result.Model);
        int[] before = [6, 13, 26, 26, 51, 51, 51, 51];
        for (int i = 0; i < 8; i++)
            Assert.Equal(ChannelPruner.KeptChannels(before[i], 0.5), shapes[$"backbone.conv{i}.weight"][0]);
        Assert.Equal([10L, 26L], shapes["classifier.weight"]); // round(25.5) = 26, half to even
        AssertWellFormed(result.Model);
    }

    [Fact]
    public void Prune_LeNet5_FlattenedChannelsTakeTheirTwentyFiveFeatures()
    {
        using var model = Tiny("lenet5", 1.0);
        using var result = ChannelPruner.Prune(model, Half);
        var shapes = Shapes(result.Model);
        Assert.Equal([60L, 8L * 25], shapes["fc1.weight"]);
        Assert.Equal([42L, 60L], shapes["fc2.weight"]);
        Assert.Equal([10L, 42L], shapes["fc3.weight"]);
        AssertWellFormed(result.Model);
    }

    [Theory]
    [InlineData("resnet18-cifar")]
    [InlineData("resnet18")]
    [InlineData("resnet56-cifar")]
    [InlineData("vgg-cifar")]
    [InlineData("lenet5")]
    public void Prune_SortingOnly_IsAnEquivalentTransform(string fixture)
    {
        // PyTorch-made weights with non-trivial BatchNorm running statistics.
        using var model = ExportFixtures.Load(fixture);
        var reference = ModelFixtures.Get(fixture);
        using var input = reference.Input();
        using var result = ChannelPruner.Prune(model, new ChannelPruningOptions { Ratio = 0, Ranking = ChannelRanking.L2 });

        Assert.Equal(Shapes(model), Shapes(result.Model));
        Assert.All(result.Groups, g => Assert.Equal(g.ChannelsBefore, g.ChannelsAfter));
        Assert.Contains(result.Groups, g => !g.KeptIndices.SequenceEqual(Enumerable.Range(0, g.ChannelsBefore)));
        var original = model.OrderedStateDict().ToDictionary(s => s.Key, s => s.Value);
        Assert.Contains(result.Model.OrderedStateDict(),
            s => s.Value.numel() > 1 && !s.Value.allclose(original[s.Key], rtol: 0, atol: 0)); // really permuted

        // A permutation is exact, but float32 sums in another order differ by rounding, which 56 layers amplify past
        // 1e-5; in float64 the comparison is tight.
        model.to(ScalarType.Float64);
        result.Model.to(ScalarType.Float64);
        using var input64 = input.to(ScalarType.Float64);
        double[] expected = Logits64(model, input64);
        double[] actual = Logits64(result.Model, input64);
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++) Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-10, $"logit {i}");
        Assert.True(expected.Max(Math.Abs) > 1e-2);
    }

    private static double[] Logits64(ClassifierModel model, Tensor input)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        return model.call(input).data<double>().ToArray();
    }

    [Fact]
    public void Prune_RatioZeroNaive_StateDictBitIdentical()
    {
        using var model = ExportFixtures.Load("resnet18-cifar");
        using var result = ChannelPruner.Prune(model, new ChannelPruningOptions { Ratio = 0, Ranking = ChannelRanking.Naive });
        var original = model.OrderedStateDict();
        var pruned = result.Model.OrderedStateDict();
        Assert.Equal(original.Select(s => s.Key), pruned.Select(s => s.Key));
        for (int i = 0; i < original.Count; i++)
            Assert.Equal(original[i].Value.bytes.ToArray(), pruned[i].Value.bytes.ToArray());
        Assert.Null(result.Model.Options.Channels);
        Assert.Equal(model.Options, result.Model.Options);
    }

    [Fact]
    public void Prune_LabVggWidthOneNaive_KeepsTheLabsChannelCounts()
    {
        // EfficientML.ai lab 1: uniform ratio 0.3 over the first seven convolutions, first k channels kept.
        using var model = Tiny("vgg-cifar", 1.0);
        using var result = ChannelPruner.Prune(model, new ChannelPruningOptions
        {
            Ratio = 0.3,
            Ranking = ChannelRanking.Naive,
            IgnoredLayers = ["backbone.conv7"],
        });
        var shapes = Shapes(result.Model);
        Assert.Equal([45L, 90, 179, 179, 358, 358, 358, 512], Enumerable.Range(0, 8).Select(i => shapes[$"backbone.conv{i}.weight"][0]));
        var conv7 = result.Groups.Single(g => g.Group.Producers.Contains("backbone.conv7"));
        Assert.Equal(ChannelDependencyAnalyzer.IgnoredReason, conv7.Group.ExcludedReason);
        Assert.Equal(7, result.Groups.Count(g => g.Group.IsPrunable));
        Assert.All(result.Groups.Where(g => g.Group.IsPrunable),
            g => Assert.Equal(Enumerable.Range(0, g.ChannelsAfter), g.KeptIndices));
    }

    [Theory]
    [InlineData("vgg-sorted-only")]
    [InlineData("vgg-lab-l2-0.3")]
    [InlineData("vgg-lab-naive-0.3")]
    [InlineData("vgg-lab-l2-list")]
    [InlineData("resnet18-cifar-l2-0.5")]
    [InlineData("lenet5-l2-0.5")]
    public void Prune_FixtureModel_MatchesPyTorchReference(string name)
    {
        var reference = ChannelPruningFixtures.Get(name);
        bool vgg = reference.Fixture == "vgg-cifar";
        var options = new ChannelPruningOptions
        {
            Ratio = name switch { "vgg-sorted-only" => 0, "vgg-lab-l2-0.3" or "vgg-lab-naive-0.3" => 0.3, _ => 0.5 },
            GroupRatios = reference.Ratios,
            Ranking = name.Contains("naive", StringComparison.Ordinal) ? ChannelRanking.Naive : ChannelRanking.L2,
            IgnoredLayers = vgg ? ["backbone.conv7"] : [], // the lab never prunes the last convolution
        };
        using var model = ExportFixtures.Load(reference.Fixture);
        using var input = ModelFixtures.Get(reference.Fixture).Input();
        using var result = ChannelPruner.Prune(model, options);

        var state = result.Model.OrderedStateDict();
        Assert.Equal(reference.StateDictKeys, state.Select(s => s.Key));
        for (int i = 0; i < state.Count; i++) Assert.Equal(reference.StateDictShapes[i], state[i].Value.shape);
        AssertClose(reference.Logits.SelectMany(r => r).ToArray(), Logits(result.Model, input), 1e-5);
    }

    [Fact]
    public void Plan_HandMadeConsumerWeights_KeepsTheLargestNormsFirst()
    {
        using var model = Tiny("vgg-cifar", 0.1); // conv0: 6 channels read by conv1 [13, 6, 3, 3]
        var weight = model.named_parameters().Single(p => p.name == "backbone.conv1.weight").parameter;
        var values = new float[13 * 6 * 9];
        void Set(int o, int c, float v) => values[((o * 6) + c) * 9] = v;
        for (int o = 0; o < 5; o++) Set(o, 0, 1f); // channel 0: L2 sqrt(5) = 2.24, L1 5
        Set(0, 1, 3f);                              // channel 1: 3 and 3
        Set(0, 2, 0.1f);
        Set(7, 3, -2.5f);                           // channel 3: 2.5 and 2.5
        Set(12, 4, 0.2f);
        Set(3, 5, -0.3f);
        using (no_grad()) weight.copy_(tensor(values, [13, 6, 3, 3]));

        IReadOnlyList<int> Kept(ChannelRanking ranking) => ChannelPruner.Plan(model, new ChannelPruningOptions
        {
            Ratio = 0.5,
            Ranking = ranking,
        }).Single(g => g.Group.Producers.Contains("backbone.conv0")).KeptIndices;

        Assert.Equal([1, 3, 0], Kept(ChannelRanking.L2));
        Assert.Equal([0, 1, 3], Kept(ChannelRanking.L1));
        Assert.Equal([0, 1, 2], Kept(ChannelRanking.Naive));
    }

    [Fact]
    public void Plan_ResNetStage_ImportanceSumsOverEveryConsumer()
    {
        // Stage 1 of resnet18-cifar at width 0.125 (8 channels) is read by four convolutions; a channel that is small in
        // each of them but present in all must outrank one that is large in a single consumer only if its total is larger.
        using var model = Tiny("resnet18-cifar", 0.125);
        var parameters = model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        string[] consumers = ["layer1.0.conv1", "layer1.1.conv1", "layer2.0.conv1", "layer2.0.downsample.0"];
        using (no_grad())
        {
            foreach (string c in consumers) parameters[c + ".weight"].zero_();
            foreach (string c in consumers) parameters[c + ".weight"][0, 2].fill_(0.1);     // channel 2 everywhere
            parameters["layer2.0.downsample.0.weight"][0, 5].fill_(0.15);                  // channel 5 in one consumer
            parameters["layer1.0.conv1.weight"][1, 6].fill_(0.01);                        // channel 6 tiny
        }
        // Channel 2: sqrt(3 * 9 * 0.01 + 0.01) = 0.529 (three 3x3 kernels and one 1x1); channel 5: 0.15; channel 6: 0.03.
        var kept = ChannelPruner.Plan(model, new ChannelPruningOptions { Ratio = 0.7 })
            .Single(g => g.Group.Producers.Contains("conv1")).KeptIndices;
        Assert.Equal([2, 5], kept); // round(8 * 0.3) = 2
    }

    [Fact]
    public void Plan_LayerRatios_SetOnlyTheNamedGroups()
    {
        using var model = Tiny("vgg-cifar", 0.1);
        var plan = ChannelPruner.Plan(model, new ChannelPruningOptions
        {
            Ratio = 0.3,
            LayerRatios = new Dictionary<string, double> { ["backbone.conv2"] = 0.5, ["backbone.bn5"] = 0 },
        });
        Assert.Equal([4, 9, 13, 18, 36, 51, 36, 36], plan.Where(g => g.Group.IsPrunable).Select(g => g.ChannelsAfter));
        Assert.Equal(0.5, plan.Single(g => g.Group.Producers.Contains("backbone.conv2")).Ratio);
    }

    [Fact]
    public void Plan_GlobalRanking_KeepsTheOverallShareByNormalisedImportance()
    {
        using var model = Tiny("vgg-cifar", 0.1, seed: 3);
        var plan = ChannelPruner.Plan(model, new ChannelPruningOptions { Ratio = 0.4, GlobalRanking = true });
        var prunable = plan.Where(g => g.Group.IsPrunable).ToList();
        int total = prunable.Sum(g => g.ChannelsBefore);
        Assert.Equal((int)Math.Round(total * 0.6, MidpointRounding.ToEven), prunable.Sum(g => g.ChannelsAfter));
        Assert.All(prunable, g => Assert.InRange(g.ChannelsAfter, 1, g.ChannelsBefore));
        Assert.True(prunable.Select(g => g.ChannelsAfter * 1.0 / g.ChannelsBefore).Distinct().Count() > 1, "shares should differ by group");

        // Recompute the normalised L2 importance independently: every kept channel (apart from each group's forced
        // best) scores at least as high as every dropped one.
        var weights = model.OrderedStateDict().ToDictionary(s => s.Key, s => s.Value);
        var keptScores = new List<double>();
        var droppedScores = new List<double>();
        foreach (var g in prunable)
        {
            var consumer = g.Group.Consumers.Single();
            float[] w = weights[consumer.Module + ".weight"].data<float>().ToArray();
            long[] shape = weights[consumer.Module + ".weight"].shape;
            long perOut = w.Length / shape[0], perChannel = perOut / g.ChannelsBefore;
            var norms = new double[g.ChannelsBefore];
            for (long i = 0; i < w.Length; i++) norms[i % perOut / perChannel] += (double)w[i] * w[i];
            for (int c = 0; c < norms.Length; c++) norms[c] = Math.Sqrt(norms[c]);
            double mean = norms.Average();
            int best = Enumerable.Range(0, norms.Length).MaxBy(c => norms[c]);
            Assert.Equal(best, g.KeptIndices[0]);
            for (int c = 0; c < norms.Length; c++)
            {
                if (c == best) continue;
                (g.KeptIndices.Contains(c) ? keptScores : droppedScores).Add(norms[c] / mean);
            }
        }
        Assert.True(keptScores.Min() >= droppedScores.Max() - 1e-9, $"kept {keptScores.Min()} < dropped {droppedScores.Max()}");
    }

    [Fact]
    public void Prune_InputModelAndGlobalGenerator_Untouched()
    {
        using var model = Tiny("resnet18-cifar", 0.125);
        var before = model.OrderedStateDict().Select(s => (s.Key, s.Value.clone())).ToList();
        manual_seed(11);
        using var expected = randn(4);
        manual_seed(11);
        using (ChannelPruner.Prune(model, Half))
        {
            using var drawn = randn(4);
            Assert.True(drawn.allclose(expected, rtol: 0, atol: 0), "pruning moved the global generator");
        }
        var after = model.OrderedStateDict();
        for (int i = 0; i < before.Count; i++)
        {
            Assert.Equal(before[i].Key, after[i].Key);
            Assert.True(before[i].Item2.allclose(after[i].Value, rtol: 0, atol: 0), before[i].Key);
            before[i].Item2.Dispose();
        }
    }

    [Fact]
    public void Prune_SameInputTwice_GivesIdenticalModels()
    {
        using var model = Tiny("resnet56-cifar", 0.25, seed: 4);
        using var a = ChannelPruner.Prune(model, Half);
        using var b = ChannelPruner.Prune(model, Half);
        var sa = a.Model.OrderedStateDict();
        var sb = b.Model.OrderedStateDict();
        Assert.All(Enumerable.Range(0, sa.Count), i => Assert.True(sa[i].Value.allclose(sb[i].Value, rtol: 0, atol: 0)));
        Assert.Equal(a.Groups.Select(g => g.KeptIndices), b.Groups.Select(g => g.KeptIndices));
    }

    [Fact]
    public void Prune_ThenFineTune_LossFallsOnAFixedBatch()
    {
        using var model = Tiny("resnet18-cifar", 0.125);
        using var result = ChannelPruner.Prune(model, Half);
        var pruned = result.Model;
        pruned.train();
        var generator = new Generator(5);
        using var images = randn(8, 3, 32, 32, generator: generator);
        using var labels = randint(0, 10, [8], generator: generator);
        using var optimizer = optim.SGD(pruned.parameters(), 0.05, momentum: 0.9);
        double first = 0, last = 0;
        for (int step = 0; step < 8; step++)
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            var loss = nn.functional.cross_entropy(pruned.call(images), labels);
            loss.backward();
            optimizer.step();
            last = loss.item<float>();
            if (step == 0) first = last;
        }
        Assert.True(double.IsFinite(last));
        Assert.True(last < first * 0.8, $"loss {first} -> {last}");
    }

    [Fact]
    public void Prune_SaveSafetensorsAndLoadThroughTheLoader_SameModelAndLogits()
    {
        using var model = ExportFixtures.Load("resnet18-cifar");
        using var input = ModelFixtures.Get("resnet18-cifar").Input();
        using var result = ChannelPruner.Prune(model, new ChannelPruningOptions { Ratio = 0.4, IgnoredLayers = ["layer3.0.conv1"] });
        using var folder = new TempDirectory();
        string path = folder.Combine("pruned.safetensors");
        Checkpoint.SaveSafetensors(result.Model, path);

        using var loaded = ModelLoader.Create(model.Options, path, CPU, seed: 9);
        loaded.eval();
        Assert.Equal(result.Model.Options, loaded.Options);
        Assert.NotNull(loaded.Options.Channels);
        Assert.Equal(Shapes(result.Model), Shapes(loaded));
        Assert.Equal(Logits(result.Model, input), Logits(loaded, input));
    }

    [Theory]
    [InlineData("resnet18-cifar-l2-0.5")]
    [InlineData("lenet5-l2-0.5")]
    public void Loader_PyTorchChannelPrunedCheckpoint_BuildsTheNarrowerModel(string name)
    {
        var reference = ChannelPruningFixtures.Get(name);
        var options = ModelFixtures.Get(reference.Fixture).Options;
        using var loaded = ModelLoader.Create(options, reference.CheckpointPath, CPU, seed: 0);
        loaded.eval();
        using var input = ModelFixtures.Get(reference.Fixture).Input();
        var state = loaded.OrderedStateDict();
        for (int i = 0; i < state.Count; i++) Assert.Equal(reference.ShapeOf(state[i].Key), state[i].Value.shape);
        AssertClose(reference.Logits.SelectMany(r => r).ToArray(), Logits(loaded, input), 1e-5);
    }

    [Fact]
    public void Prune_ExportToOnnx_InitializersHaveThePrunedShapesAndRunInOnnxRuntime()
    {
        using var model = ExportFixtures.Load("resnet18-cifar");
        using var result = ChannelPruner.Prune(model, Half);
        var proto = OnnxExporter.Export(result.Model, new OnnxExportOptions { FoldBatchNorm = false });
        OnnxVerifier.Validate(proto);
        var pruned = Shapes(result.Model);
        var original = Shapes(model);
        Assert.Equal(pruned.Keys.Where(k => !k.EndsWith("num_batches_tracked", StringComparison.Ordinal)).Order(StringComparer.Ordinal),
            proto.Graph.Initializer.Select(i => i.Name).Order(StringComparer.Ordinal));
        foreach (var initializer in proto.Graph.Initializer)
        {
            Assert.Equal(pruned[initializer.Name], initializer.Dims.ToArray());
            if (initializer.Name.EndsWith("conv2.weight", StringComparison.Ordinal))
                Assert.True(initializer.Dims[0] * 2 == original[initializer.Name][0], initializer.Name);
        }
        var parity = OnnxVerifier.CheckParity(result.Model, proto.ToByteArray(), batch: 3, seed: 2);
        Assert.InRange(parity.MaxRelativeDifference, 0, OnnxVerifier.ParityTolerance);
        Assert.True(parity.MaxReference > 1e-3);
    }

    [Theory]
    [InlineData(1.2)]
    [InlineData(1.0)]
    [InlineData(-0.1)]
    [InlineData(double.NaN)]
    public void Prune_RatioOutsideRange_ThrowsCmp0701(double ratio)
    {
        using var model = Tiny("lenet5", 0.5);
        var e = Assert.Throws<CompressException>(() => ChannelPruner.Prune(model, new ChannelPruningOptions { Ratio = ratio }));
        Assert.Equal(DiagnosticCode.InvalidChannelRatio, e.Code);
    }

    [Fact]
    public void Prune_PerLayerRatioOutsideRange_ThrowsCmp0701NamingTheLayer()
    {
        using var model = Tiny("lenet5", 0.5);
        var e = Assert.Throws<CompressException>(() => ChannelPruner.Prune(model, new ChannelPruningOptions
        {
            LayerRatios = new Dictionary<string, double> { ["fc1"] = 1.5 },
        }));
        Assert.Equal(DiagnosticCode.InvalidChannelRatio, e.Code);
        Assert.Contains("'fc1'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Prune_UnknownIgnoredLayer_ThrowsCmp0702WithSuggestion()
    {
        using var model = Tiny("resnet18-cifar", 0.125);
        var e = Assert.Throws<CompressException>(() => ChannelPruner.Prune(model, new ChannelPruningOptions
        {
            IgnoredLayers = ["layer2.0.downsample"],
        }));
        Assert.Equal(DiagnosticCode.UnknownChannelLayer, e.Code);
        Assert.Contains("did you mean 'layer2.0.downsample.0'?", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Prune_UnknownPerLayerRatioLayer_ThrowsCmp0702WithSuggestion()
    {
        using var model = Tiny("lenet5", 0.5);
        var e = Assert.Throws<CompressException>(() => ChannelPruner.Prune(model, new ChannelPruningOptions
        {
            LayerRatios = new Dictionary<string, double> { ["fc_1"] = 0.5 },
        }));
        Assert.Equal(DiagnosticCode.UnknownChannelLayer, e.Code);
        Assert.Contains("did you mean 'fc1'?", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Prune_GroupRatiosOfWrongLength_ThrowsCmp0703WithBothCounts()
    {
        using var model = Tiny("vgg-cifar", 0.1);
        var e = Assert.Throws<CompressException>(() => ChannelPruner.Prune(model, new ChannelPruningOptions
        {
            GroupRatios = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7], // the lab's seven, without ignoring conv7
        }));
        Assert.Equal(DiagnosticCode.ChannelRatioCountMismatch, e.Code);
        Assert.Contains("7 ratios", e.Message, StringComparison.Ordinal);
        Assert.Contains("8 prunable", e.Message, StringComparison.Ordinal);
    }

    public static TheoryData<ChannelPruningOptions> ConflictingOptions => new()
    {
        new ChannelPruningOptions { GlobalRanking = true, Ranking = ChannelRanking.Naive },
        new ChannelPruningOptions { GlobalRanking = true, GroupRatios = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.1, 0.1, 0.1, 0.1, 0.1] },
        new ChannelPruningOptions { GroupRatios = [0.1], LayerRatios = new Dictionary<string, double> { ["conv1"] = 0.1 } },
        new ChannelPruningOptions { LayerRatios = new Dictionary<string, double> { ["layer2.0.conv2"] = 0.5, ["layer2.1.conv2"] = 0.3 } },
        new ChannelPruningOptions { LayerRatios = new Dictionary<string, double> { ["fc"] = 0.5 } },
        new ChannelPruningOptions { LayerRatios = new Dictionary<string, double> { ["layer1.0.conv1"] = 0.5 }, IgnoredLayers = ["layer1.0.bn1"] },
    };

    [Theory]
    [MemberData(nameof(ConflictingOptions))]
    public void Prune_ContradictingOptions_ThrowsCmp0704(ChannelPruningOptions options)
    {
        using var model = Tiny("resnet18-cifar", 0.125);
        var e = Assert.Throws<CompressException>(() => ChannelPruner.Prune(model, options));
        Assert.Equal(DiagnosticCode.InvalidChannelPruningOption, e.Code);
    }

    [Theory]
    [InlineData(64, 0.3, 8, 48)]   // 45 -> 48
    [InlineData(128, 0.3, 8, 88)]  // 90 -> 88 (11.25 rounds to 11)
    [InlineData(256, 0.3, 8, 176)] // 179 -> 176
    [InlineData(512, 0.3, 8, 360)] // 358 -> 360
    [InlineData(6, 0.9, 8, 6)]     // at least one multiple, never more than the channels
    [InlineData(64, 0.3, 1, 45)]   // 1: the lab's formula unchanged
    public void KeptChannels_RoundTo_NearestMultipleWithinTheGroup(int channels, double ratio, int roundTo, int expected) =>
        Assert.Equal(expected, ChannelPruner.KeptChannels(channels, ratio, roundTo));

    [Fact]
    public void Prune_RoundToZero_IsAnInvalidOption()
    {
        using var model = Compress.Engine.Models.ModelFactory.Create(new Compress.Engine.Models.ModelOptions { Architecture = "vgg-cifar", WidthMultiplier = 0.125 });
        var e = Assert.Throws<Compress.Engine.Diagnostics.CompressException>(() => ChannelPruner.Prune(model, new ChannelPruningOptions { RoundTo = 0 }));
        Assert.Equal(Compress.Engine.Diagnostics.DiagnosticCode.InvalidChannelPruningOption, e.Code);
    }
}

using Compress.Engine.Export;
using Compress.Engine.Models;
using Compress.Engine.Models.Graph;
using Compress.Engine.Models.Onnx;
using Compress.Engine.Pruning.Channels;
using Compress.Engine.Tests.Models.Onnx;
using Google.Protobuf;
using TorchSharp;
using static TorchSharp.torch;

namespace Compress.Engine.Tests.Pruning.Channels;

/// <summary>
/// Channel pruning on every torchvision family the importer reads (tests/fixtures/onnx-import): depthwise and grouped
/// convolutions, concatenations, splits and shuffles, squeeze-and-excitation gates, channels-last LayerNorm and
/// BatchNorm-folded files.
/// </summary>
public class ChannelPruningFamiliesTests
{
    public static TheoryData<string> Files => OnnxImportFixtures.AllFiles;

    private static ClassifierModel Import(string file)
    {
        var model = OnnxImporter.Create(OnnxImporter.Read(OnnxImportFixtures.Get(file).Path));
        model.eval();
        return model;
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void SortingOnly_LogitsUnchanged(string file)
    {
        using var model = Import(file);
        using var result = ChannelPruner.Prune(model, new ChannelPruningOptions { Ratio = 0 });
        Assert.All(result.Groups, g => Assert.Equal(g.ChannelsBefore, g.ChannelsAfter));
        Assert.Equal(model.ParameterCount(), result.Model.ParameterCount());
        // Something was really permuted (every family has a reorderable group with unequal importances).
        Assert.Contains(result.Groups, g => !g.KeptIndices.SequenceEqual(Enumerable.Range(0, g.ChannelsBefore)));

        using var input = OnnxImportFixtures.Get(file).Input();
        double[] expected = Logits64(model, input), actual = Logits64(result.Model, input);
        double max = expected.Max(Math.Abs);
        double diff = expected.Zip(actual, (e, a) => Math.Abs(e - a)).Max();
        Assert.True(diff <= 1e-5 * Math.Max(1, max), $"{file}: max |diff| {diff} (max |logit| {max})");
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void Prune30_WidthsCoupledGroupCountsValidOutputsUnchanged(string file)
    {
        using var model = Import(file);
        using var result = ChannelPruner.Prune(model, new ChannelPruningOptions { Ratio = 0.3 });
        var pruned = result.Model;
        Assert.True(result.ParametersAfter < result.ParametersBefore, $"{file}: {result.ParametersBefore} -> {result.ParametersAfter}");
        Assert.Contains(result.Groups, g => g.ChannelsAfter < g.ChannelsBefore);

        var shapes = pruned.OrderedStateDict().ToDictionary(s => s.Key, s => s.Value.shape);
        // A layer in one group has that group's new width (a norm after a concatenation spans several groups; a channel
        // shuffle ties channels of one layer to channels of others, and repeats them).
        var original = model.OrderedStateDict().ToDictionary(s => s.Key, s => s.Value.shape);
        var single = result.Groups.SelectMany(g => g.Group.Producers.Concat(g.Group.BatchNorms)).GroupBy(n => n)
            .Where(n => n.Count() == 1).Select(n => n.Key).ToHashSet();
        foreach (var group in result.Groups)
        {
            foreach (string layer in group.Group.Producers.Concat(group.Group.BatchNorms).Where(single.Contains))
            {
                long before = original[layer + ".weight"][0], after = shapes[layer + ".weight"][0];
                // Reorderable: every tensor holds the group once, in order, so its width is the group's.
                if (group.Group.Reorderable) Assert.Equal(group.ChannelsAfter, after);
                else Assert.InRange(after, 1, before);
            }
            if (group.Group.Blocks > 1) Assert.Equal(0, group.ChannelsAfter % group.Group.Blocks);
            if (!group.Group.IsPrunable) Assert.Equal(group.ChannelsBefore, group.ChannelsAfter);
        }
        foreach (var conv in pruned.DescribeGraph().Nodes.OfType<ConvNode>())
        {
            long[] w = shapes[conv.Module + ".weight"];
            int groups = conv.GroupsOf(w);
            Assert.True(w[0] % groups == 0, $"{conv.Name}: {w[0]} outputs, {groups} groups");
            if (conv.Depthwise) Assert.Equal(1, w[1]);
        }

        using var input = OnnxImportFixtures.Get(file).Input();
        using var noGrad = no_grad();
        using var logits = pruned.call(input);
        Assert.Equal([2L, OnnxImportFixtures.Get(file).Classes], logits.shape);
        Assert.True(logits.isfinite().all().item<bool>());
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void Prune30_ExportPassesOnnxVerificationAndParity(string file)
    {
        using var model = Import(file);
        using var result = ChannelPruner.Prune(model, new ChannelPruningOptions { Ratio = 0.3, RoundTo = 2 });
        var proto = OnnxExporter.Export(result.Model, new OnnxExportOptions { FoldBatchNorm = true });
        OnnxVerifier.Validate(proto);
        var parity = OnnxVerifier.CheckParity(result.Model, proto.ToByteArray(), batch: 2, seed: 3);
        Assert.InRange(parity.MaxRelativeDifference, 0, OnnxVerifier.ParityTolerance);
        Assert.True(parity.MaxReference > 1e-4, $"{file}: outputs all near zero");
    }

    /// <summary>One file per family: the opset-17 one with BatchNorm kept (or without BatchNorm).</summary>
    public static TheoryData<string> Families => new(OnnxImportFixtures.Files
        .Where(f => f.Contains("-op17-", StringComparison.Ordinal) && !f.Contains("bnfolded", StringComparison.Ordinal)));

    [Theory]
    [MemberData(nameof(Families))]
    public void PruneJob_ImportsPrunes30FineTunesOneEpochAndExportsASmallerVerifiedOnnx(string file)
    {
        using var dir = new Compress.Engine.Tests.Data.TempDirectory();
        string path = OnnxImportFixtures.Get(file).Path;
        string artifact = dir.Combine("pruned.onnx");
        var result = Compress.Engine.Pipeline.PruneJob.Run(new Compress.Engine.Pipeline.PruneJob.Options
        {
            Model = new ModelOptions { Architecture = path },
            Weights = path,
            Data = new Compress.Engine.Pipeline.DataOptions
            {
                Source = "synthetic",
                Synthetic = new Compress.Engine.Data.SyntheticDataOptions { Seed = 5, TrainCount = 64, TestCount = 32 },
            },
            Method = Compress.Engine.Pruning.PruneMethod.Channel,
            Channel = new ChannelPruningOptions { Ratio = 0.3 },
            FineTune = Compress.Engine.Training.TrainingOptions.PaperFineTune with { Epochs = 1, BatchSize = 32 },
            OnnxOutputPath = artifact,
        }, Compress.Engine.Diagnostics.DiagnosticSinks.None);

        Assert.Single(result.FineTune.Epochs);
        Assert.True(result.Parameters < result.ParametersBefore, $"{result.ParametersBefore} -> {result.Parameters}");
        var export = result.Export!;
        Assert.InRange(export.MaxRelativeDifference, 0, OnnxVerifier.ParityTolerance); // verified against the model
        using var original = Import(file);
        var dense = OnnxProfile.Measure(OnnxExporter.Export(original, new OnnxExportOptions { FoldBatchNorm = true }));
        Assert.True(export.Macs < dense.Macs, $"{file}: MACs {dense.Macs} -> {export.Macs}");
        Assert.True(new FileInfo(artifact).Length < new FileInfo(path).Length);
        Assert.NotNull(result.AccuracyOnnx);
    }

    private static double[] Logits64(ClassifierModel model, Tensor input)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var copy = model.WithGraph(model.DescribeGraph());
        try
        {
            var source = model.OrderedStateDict().ToDictionary(s => s.Key, s => s.Value);
            foreach (var (key, target) in copy.OrderedStateDict()) target.copy_(source[key]);
            copy.eval();
            copy.to(ScalarType.Float64);
            return copy.call(input.to(ScalarType.Float64)).data<double>().ToArray();
        }
        finally
        {
            copy.Dispose();
        }
    }
}

using Compress.Cli;
using Compress.Engine.Models;
using Compress.Engine.Tests.Data;

namespace Compress.Engine.Tests.Cli;

/// <summary><c>compress train --dynamic-prune</c>, <c>compress prune --method dynamic</c> and <c>--decorrelation</c>.</summary>
public class TrainDynamicCommandTests
{
    private static readonly string[] Tiny =
        ["--model", "resnet18-cifar", "-w", "0.0625", "--synthetic-train", "320", "--synthetic-test", "160"];

    [Fact]
    public void Train_DynamicPruneUnstructured_EndsSparseAndSaysHowManyWeightsRevived()
    {
        using var dir = new TempDirectory();
        var (code, stdout, stderr) = CliRunner.Run([.. new[] { "train" }, .. Tiny, "--epochs", "2", "--batch-size", "32",
            "--dynamic-prune", "unstructured", "--target-sparsity", "0.8", "--mask-interval", "4", "--decorrelation", "0.5",
            "--output", dir.Combine("w.safetensors")]);
        Assert.True(code == 0, stderr);
        Assert.Matches(@"dynamic pruning +unstructured: [\d,]+ of [\d,]+ weights masked \(80\.00%, target 80\.00%\); \d+ mask updates, [\d,]+ weights revived, decorrelation 0\.5 \(pearson\)", stdout);
        Assert.Matches(@"epoch 2 +test accuracy \d+\.\d\d%, 80\.00% masked, mean filter \|r\| 0\.\d{4}", stdout);
        Assert.True(File.Exists(dir.Combine("w.safetensors")));
    }

    [Fact]
    public void Train_DynamicPruneFilter_SavesACompactedModelThatReloads()
    {
        using var dir = new TempDirectory();
        string weights = dir.Combine("f.safetensors");
        var (code, stdout, stderr) = CliRunner.Run([.. new[] { "train" }, .. Tiny, "--epochs", "1", "--batch-size", "32",
            "--dynamic-prune", "filter", "--target-sparsity", "0.5", "--mask-interval", "2", "--output", weights]);
        Assert.True(code == 0, stderr);
        Assert.Matches(@"filter: [\d,]+ of [\d,]+ filters masked \(50\.00%", stdout);
        // The checkpoint is the compacted model: it loads at its own widths, smaller than the dense model.
        using var dense = ModelFactory.Create(TinySetup.TinyResNet);
        var options = ChannelWidths.FitStateDict(TinySetup.TinyResNet, Checkpoint.ReadSafetensors(weights));
        using var compacted = ModelFactory.Create(options);
        Checkpoint.Load(compacted, weights);
        Assert.True(compacted.ParameterCount() < 0.7 * dense.ParameterCount(), $"{compacted.ParameterCount()} of {dense.ParameterCount()}");
    }

    [Fact]
    public void Prune_MethodDynamicFilter_WritesACompactedOnnxArtifact()
    {
        using var dir = new TempDirectory();
        string weights = dir.Combine("seeded.safetensors");
        TorchSharp.torch.manual_seed(0);
        using (var seeded = ModelFactory.Create(TinySetup.TinyResNet)) Checkpoint.SaveSafetensors(seeded, weights);
        string onnx = dir.Combine("pruned.onnx");
        var (code, stdout, stderr) = CliRunner.Run([.. new[] { "prune" }, .. Tiny, "--weights", weights, "--method", "dynamic",
            "--dynamic-prune", "filter", "--target-sparsity", "0.5", "--finetune-epochs", "1", "--finetune-batch-size", "64",
            "--finetune-lr", "0.05", "--output", onnx]);
        Assert.True(code == 0, stderr);
        Assert.Contains("dynamic pruning          filter", stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("accuracy after pruning", stdout, StringComparison.Ordinal);
        var proto = Onnx.ModelProto.Parser.ParseFrom(File.ReadAllBytes(onnx));
        using var dense = ModelFactory.Create(TinySetup.TinyResNet);
        long denseMacs = Compress.Engine.Benchmark.OnnxGraphStats.CountMacs(Compress.Engine.Export.OnnxExporter.Export(dense, new Compress.Engine.Export.OnnxExportOptions { FoldBatchNorm = true }))!.Value;
        Assert.True(Compress.Engine.Benchmark.OnnxGraphStats.CountMacs(proto)!.Value < 0.8 * denseMacs);
    }

    [Theory]
    [InlineData("--dynamic-prune", "filter", "--epochs", "1")]
    [InlineData("--target-sparsity", "0.6", "--epochs", "1")]
    [InlineData("--dynamic-prune", "unstructured", "--epochs", "1")]
    [InlineData("--dynamic-prune", "filter", "--target-sparsity", "1.5")]
    [InlineData("--mask-interval", "0", "--epochs", "1")]
    public void Train_DynamicPruneMisused_IsCmp0709(string a, string b, string c, string d)
    {
        var (code, _, err) = CliRunner.Run("train", "--model", "resnet18-cifar", a, b, c, d, "--output", "/tmp/never.safetensors");
        Assert.Equal(CliApp.ErrorExitCode, code);
        Assert.Contains("error CMP0709", err, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", err, StringComparison.Ordinal);
    }

    [Fact]
    public void Prune_DynamicOptionsWithAnotherMethod_IsCmp0709()
    {
        var (code, _, err) = CliRunner.Run("prune", "--model", "resnet18-cifar", "--weights", "/tmp/none.safetensors",
            "--dynamic-prune", "filter", "--target-sparsity", "0.5");
        Assert.Equal(CliApp.ErrorExitCode, code);
        Assert.Contains("error CMP0709", err, StringComparison.Ordinal);
        Assert.Contains("--method dynamic", err, StringComparison.Ordinal);
    }
}

using Compress.Cli;
using Compress.Engine.Tests.Data;

namespace Compress.Engine.Tests.Cli;

/// <summary><c>compress train --dynamic-prune</c> and <c>--decorrelation</c> from the command line.</summary>
public class TrainDynamicCommandTests
{
    [Fact]
    public void Train_DynamicPruneUnstructured_EndsSparseAndSaysHowManyWeightsRevived()
    {
        using var dir = new TempDirectory();
        var (code, stdout, stderr) = CliRunner.Run("train", "--model", "resnet18-cifar", "-w", "0.0625", "--synthetic-train", "320",
            "--synthetic-test", "160", "--epochs", "2", "--batch-size", "32", "--dynamic-prune", "unstructured", "--target-sparsity", "0.8",
            "--mask-interval", "4", "--decorrelation", "0.5", "--output", dir.Combine("w.safetensors"));
        Assert.True(code == 0, stderr);
        Assert.Matches(@"dynamic pruning: sparsity 7\d\.\d\d% of all parameters; \d+ mask updates, [\d,]+ weights revived", stdout);
        Assert.True(File.Exists(dir.Combine("w.safetensors")));
    }

    [Theory]
    [InlineData("--dynamic-prune", "filter", "--target-sparsity", "0.6")]
    [InlineData("--target-sparsity", "0.6", "--epochs", "1")]
    [InlineData("--dynamic-prune", "unstructured", "--epochs", "1")]
    public void Train_DynamicPruneMisused_IsCmp0001(string a, string b, string c, string d)
    {
        var (code, _, err) = CliRunner.Run("train", "--model", "resnet18-cifar", a, b, c, d, "--output", "/tmp/never.safetensors");
        Assert.Equal(CliApp.ErrorExitCode, code);
        Assert.Contains("error CMP0001", err, StringComparison.Ordinal);
    }
}

using System.Text.Json;
using Compress.Cli;
using Compress.Engine.Tests.Models;

namespace Compress.Engine.Tests.Cli;

public sealed class ExportCommandTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("compress-exportcli-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static (int Code, string Out, string Err) Run(params string[] args) => CliRunner.Run(args);

    [Fact]
    public void Export_Json_PrintsOutputSizeParametersParityAndOpset()
    {
        var reference = ModelFixtures.Get("vgg-cifar");
        string output = Path.Combine(_folder, "vgg.onnx");
        var (code, stdout, err) = Run("export", "--model", "vgg-cifar", "--width-multiplier", "0.1", "--weights",
            reference.CheckpointPath, "--output", output, "--no-fold-bn", "--json");
        Assert.True(code == 0, err);
        using var json = JsonDocument.Parse(stdout);
        var root = json.RootElement;
        Assert.Equal(Path.GetFullPath(output), root.GetProperty("output").GetString());
        Assert.Equal(new FileInfo(output).Length, root.GetProperty("fileBytes").GetInt64());
        Assert.Equal(reference.ParameterCount, root.GetProperty("parameters").GetInt64());
        Assert.InRange(root.GetProperty("maxRelativeDifference").GetDouble(), 0, 1e-4);
        Assert.Equal(17, root.GetProperty("opset").GetInt32());
        Assert.False(root.GetProperty("foldedBatchNorm").GetBoolean());
    }

    [Fact]
    public void Export_Summary_NamesTheWrittenFile()
    {
        var reference = ModelFixtures.Get("lenet5");
        string output = Path.Combine(_folder, "lenet.onnx");
        var (code, stdout, err) = Run("export", "-m", "lenet5", "--weights", reference.CheckpointPath, "-o", output);
        Assert.True(code == 0, err);
        Assert.Contains(Path.GetFullPath(output), stdout, StringComparison.Ordinal);
        Assert.Contains("opset 17", stdout, StringComparison.Ordinal);
        Assert.True(File.Exists(output));
    }

    [Fact]
    public void Export_MissingOutputOption_IsAUsageError()
    {
        var (code, _, err) = Run("export", "-m", "lenet5", "--weights", ModelFixtures.Get("lenet5").CheckpointPath);
        Assert.Equal(CliApp.UsageExitCode, code);
        Assert.Contains("CMP0001", err, StringComparison.Ordinal);
    }
}

using System.Text.Json;
using Compress.Cli;
using Compress.Engine.Models;
using Compress.Engine.Pipeline;
using Compress.Engine.Tests.Analysis;
using static TorchSharp.torch;

namespace Compress.Engine.Tests.Cli;

public sealed class SensitivityCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("compress-sensitivity-cli-").FullName;
    private readonly string _weights;

    public SensitivityCommandTests()
    {
        _weights = Path.Combine(_dir, "tiny.safetensors");
        using var model = ModelLoader.Create(TinySetup.TinyResNet, null, CPU, 0);
        Checkpoint.SaveSafetensors(model, _weights);
    }

    public void Dispose() => Directory.Delete(_dir, true);

    private (int Code, string Out, string Err) Run(params string[] extra) => CliRunner.Run(
        ["sensitivity", "--model", "resnet18-cifar", "-w", "0.0625", "--weights", _weights, "--synthetic-train", "64", "--synthetic-test", "64", .. extra]);

    [Fact]
    public void Sensitivity_JsonOutputAndPlot_WritesTheScanForTheChosenLayers()
    {
        string output = Path.Combine(_dir, "scan.json");
        string plot = Path.Combine(_dir, "scan.png");

        var (code, stdout, err) = Run("--layers", "conv1.weight, fc.weight", "--sparsities", "0.9,0.5", "--output", output, "--plot", plot, "--json");

        Assert.True(code == 0, err);
        using var json = JsonDocument.Parse(stdout);
        var root = json.RootElement;
        Assert.Equal("resnet18-cifar", root.GetProperty("model").GetString());
        Assert.Equal(64, root.GetProperty("images").GetInt32());
        Assert.Equal([0.5, 0.9], root.GetProperty("sparsities").EnumerateArray().Select(e => e.GetDouble()));
        var layers = root.GetProperty("layers");
        Assert.Equal(["conv1.weight", "fc.weight"], layers.EnumerateArray().Select(l => l.GetProperty("name").GetString()));
        Assert.Equal(4 * 3 * 3 * 3, layers[0].GetProperty("parameterCount").GetInt64()); // conv1: 4 x 3 x 3 x 3
        Assert.Equal(10 * 32, layers[1].GetProperty("parameterCount").GetInt64());                           // fc: 10 x 32
        foreach (var layer in layers.EnumerateArray())
            foreach (var point in layer.GetProperty("points").EnumerateArray())
                Assert.InRange(point.GetProperty("accuracy").GetDouble(), 0, 100);
        // The file holds the same result as stdout.
        using var written = JsonDocument.Parse(File.ReadAllText(output));
        Assert.Equal(root.GetProperty("denseAccuracy").GetDouble(), written.RootElement.GetProperty("denseAccuracy").GetDouble());
        Assert.Equal(layers[1].GetProperty("points")[1].GetProperty("loss").GetDouble(),
            written.RootElement.GetProperty("layers")[1].GetProperty("points")[1].GetProperty("loss").GetDouble());
        PngAssert.IsPng(plot, 1200, Engine.Analysis.SensitivityPlot.HeightFor(2));
        PngAssert.OnlyFiles(_dir, "tiny.safetensors", "scan.json", "scan.png");
        Assert.Contains("sensitivity [2/2] fc.weight", err, StringComparison.Ordinal); // progress on stderr
    }

    [Fact]
    public void Sensitivity_Text_PrintsOneRowPerLayerWithAColumnPerSparsity()
    {
        var (code, stdout, err) = Run("--layers", "fc.weight", "--sparsities", "0.25,0.75", "--max-batches", "1", "--batch-size", "16");

        Assert.True(code == 0, err);
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Equal(3, lines.Length);
        Assert.Contains("on 16 images", lines[0], StringComparison.Ordinal);
        Assert.Equal(["layer", "parameters", "0.25", "0.75"], lines[1].Split(' ', StringSplitOptions.RemoveEmptyEntries));
        var row = lines[2].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("fc.weight", row[0]);
        Assert.Equal("320", row[1]);
        Assert.Equal(4, row.Length);
    }

    [Theory]
    [InlineData("1.5")]
    [InlineData("0.5,half")]
    public void Sensitivity_BadSparsity_ExitsWithCmp0751(string sparsities)
    {
        var (code, _, err) = Run("--sparsities", sparsities);
        Assert.Equal(CliApp.ErrorExitCode, code);
        Assert.Contains("error CMP0751", err, StringComparison.Ordinal);
    }

    [Fact]
    public void Sensitivity_MisspeltLayer_ExitsWithCmp0750AndASuggestionAndWritesNothing()
    {
        string output = Path.Combine(_dir, "scan.json");
        var (code, _, err) = Run("--layers", "fc.weigth", "--output", output);
        Assert.Equal(CliApp.ErrorExitCode, code);
        Assert.Contains("error CMP0750", err, StringComparison.Ordinal);
        Assert.Contains("did you mean 'fc.weight'?", err, StringComparison.Ordinal);
        Assert.False(File.Exists(output));
    }

    [Fact]
    public void Sensitivity_ZeroBatchLimit_ExitsWithCmp0754()
    {
        var (code, _, err) = Run("--max-batches", "0");
        Assert.Equal(CliApp.ErrorExitCode, code);
        Assert.Contains("error CMP0754", err, StringComparison.Ordinal);
    }
}

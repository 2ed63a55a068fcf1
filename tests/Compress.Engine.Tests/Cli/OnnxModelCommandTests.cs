using System.Text.Json;
using Compress.Cli;
using Compress.Engine.Tests.Data;
using Compress.Engine.Tests.Models.Onnx;
using Google.Protobuf;
using Onnx;

namespace Compress.Engine.Tests.Cli;

/// <summary>An .onnx file as --model, in the commands and in a spec, as a user would run them.</summary>
public class OnnxModelCommandTests
{
    private static string Fixture(string file) => OnnxImportFixtures.Get(file).Path;

    [Fact]
    public void Evaluate_OnnxModelWithoutWeights_UsesTheFilesOwnWeights()
    {
        var (code, output, err) = CliRunner.Run("evaluate", "--model", Fixture("mobilenet_v2-op17-bnkept.onnx"),
            "--synthetic-train", "64", "--synthetic-test", "32", "--json");
        Assert.True(code == 0, err);
        using var json = JsonDocument.Parse(output);
        Assert.Equal(32, json.RootElement.GetProperty("images").GetInt32());
        Assert.Equal(16186, json.RootElement.GetProperty("parameters").GetInt64());
    }

    [Fact]
    public void Evaluate_BuiltInModelWithoutWeights_Cmp0001SaysWhy()
    {
        var (code, _, err) = CliRunner.Run("evaluate", "--model", "lenet5");
        Assert.Equal(CliApp.UsageExitCode, code);
        Assert.Contains("error CMP0001", err, StringComparison.Ordinal);
        Assert.Contains(".onnx", err, StringComparison.Ordinal);
    }

    [Fact]
    public void Export_UnsupportedOnnxOp_Cmp0110WithoutStackTraceAndNothingWritten()
    {
        using var temp = new TempDirectory();
        var model = ModelProto.Parser.ParseFrom(File.ReadAllBytes(Fixture("resnet18-op17-bnkept.onnx")));
        model.Graph.Node.First(n => n.OpType == "Relu").OpType = "Mish";
        string bad = Path.Combine(temp.Path, "bad.onnx");
        File.WriteAllBytes(bad, model.ToByteArray());
        string output = Path.Combine(temp.Path, "out.onnx");
        var (code, _, err) = CliRunner.Run("export", "--model", bad, "--output", output);
        Assert.Equal(CliApp.ErrorExitCode, code);
        Assert.Contains("error CMP0110", err, StringComparison.Ordinal);
        Assert.Contains("bad.onnx", err, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", err, StringComparison.Ordinal);
        Assert.False(File.Exists(output));
    }

    [Fact]
    public void Export_OnnxModel_KeepsTheUsersNamesAndOpset()
    {
        using var temp = new TempDirectory();
        string output = Path.Combine(temp.Path, "out.onnx");
        var (code, _, err) = CliRunner.Run("export", "--model", Fixture("shufflenet_v2_x0_5-op13-bnkept.onnx"), "--output", output);
        Assert.True(code == 0, err);
        var written = ModelProto.Parser.ParseFrom(File.ReadAllBytes(output));
        Assert.Equal(13, written.OpsetImport.Single(o => o.Domain.Length == 0).Version);
        Assert.Equal("input", written.Graph.Input[0].Name);
        Assert.Equal("logits", written.Graph.Output[0].Name);
    }

    [Fact]
    public void RunSpec_OnnxModelPath_PrunesFineTunesAndWritesTheArtifactAndItsInputs()
    {
        using var temp = new TempDirectory();
        File.Copy(Fixture("resnet18-op17-bnkept.onnx"), Path.Combine(temp.Path, "app.onnx"));
        string spec = Path.Combine(temp.Path, "app.json");
        File.WriteAllText(spec, """{ "model": "app.onnx", "data": "synthetic", "syntheticTrain": 256, "syntheticTest": 64, "fineTuneEpochs": 1, "pruneRate": 0.3 }""");
        string inputs = Path.Combine(temp.Path, "app.inputs");
        var (code, output, err) = CliRunner.Run("run", "--spec", spec, "--intermediate-dir", Path.Combine(temp.Path, "obj"),
            "--artifact-dir", Path.Combine(temp.Path, "out"), "--dependency-file", inputs, "--json");
        Assert.True(code == 0, err);
        using var json = JsonDocument.Parse(output);
        Assert.Equal(0.3, json.RootElement.GetProperty("rate").GetProperty("value").GetDouble(), 6);
        var artifact = ModelProto.Parser.ParseFrom(File.ReadAllBytes(Path.Combine(temp.Path, "out", "app.onnx")));
        Assert.Equal("input", artifact.Graph.Input[0].Name);
        // The ONNX file is an input of the build (editing it reruns the model).
        Assert.Contains(Path.Combine(temp.Path, "app.onnx"), File.ReadAllLines(inputs));
    }
}

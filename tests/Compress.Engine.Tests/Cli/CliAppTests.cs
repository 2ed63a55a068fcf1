using System.Text.Json;
using Compress.Cli;

namespace Compress.Engine.Tests.Cli;

public class CliAppTests
{
    private static (int Code, string Out, string Err) Run(params string[] args) => CliRunner.Run(args);

    [Fact]
    public void Run_UnknownOption_ExitsWithUsageCodeAndCmp0001()
    {
        var (code, _, err) = Run("analyze", "--weights", "x.safetensors", "--frobnicate");
        Assert.Equal(CliApp.UsageExitCode, code);
        Assert.Contains("error CMP0001", err, StringComparison.Ordinal);
        Assert.Contains("--frobnicate", err, StringComparison.Ordinal);
    }

    [Fact]
    public void RunSpec_CacheDirUnderAFile_ExitsWithCmp0004NamingTheFolderAndWritesNothing()
    {
        using var temp = new Compress.Engine.Tests.Data.TempDirectory();
        var spec = Path.Combine(temp.Path, "m.json");
        File.WriteAllText(spec, """{ "model": { "architecture": "lenet5" }, "data": "synthetic" }""");
        var blocker = Path.Combine(temp.Path, "blocker");
        File.WriteAllText(blocker, "a file, not a folder");
        var (code, _, err) = Run("run", "--spec", spec, "--cache-dir", Path.Combine(blocker, "cache"),
            "--intermediate-dir", Path.Combine(temp.Path, "obj"), "--artifact-dir", Path.Combine(temp.Path, "out"),
            "--dependency-file", Path.Combine(temp.Path, "m.inputs"));
        Assert.Equal(CliApp.ErrorExitCode, code);
        Assert.Contains("error CMP0004", err, StringComparison.Ordinal);
        Assert.Contains(Path.Combine(blocker, "cache"), err, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", err, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(temp.Path, "m.inputs")));
        Assert.False(Directory.Exists(Path.Combine(temp.Path, "out")));
    }

    [Fact]
    public void RunSpec_ZeroHeartbeat_ExitsWithCmp0001()
    {
        var (code, _, err) = Run("run", "--spec", "/nonexistent/m.json", "--heartbeat", "0");
        Assert.Equal(CliApp.UsageExitCode, code);
        Assert.Contains("error CMP0001: --heartbeat must be a positive number of seconds; got 0.", err, StringComparison.Ordinal);
    }

    [Fact]
    public void Analyze_MissingWeightsFile_ExitsWithCmp0005NamingIt()
    {
        var (code, _, err) = Run("analyze", "--model", "lenet5", "--weights", "/nonexistent/w.safetensors");
        Assert.Equal(CliApp.ErrorExitCode, code);
        Assert.Contains("/nonexistent/w.safetensors", err, StringComparison.Ordinal);
        Assert.Contains("error CMP0005", err, StringComparison.Ordinal);
    }

    [Fact]
    public void Analyze_UnknownModel_ExitsWithCmp0101()
    {
        var (code, _, err) = Run("analyze", "--model", "resnet1000", "--weights", RepoPaths.Fixture("lenet5-seed0", "lenet5-seed0.safetensors"));
        Assert.Equal(CliApp.ErrorExitCode, code);
        Assert.Contains("error CMP0101", err, StringComparison.Ordinal);
    }

    [Fact]
    public void Analyze_Json_LeNetFixture_HasTheContractFieldsAndTheReferenceKnee()
    {
        var (code, stdout, err) = Run("analyze", "--model", "lenet5", "--weights",
            RepoPaths.Fixture("lenet5-seed0", "lenet5-seed0.safetensors"), "--json");
        Assert.True(code == 0, err);
        using var reference = JsonDocument.Parse(File.ReadAllText(RepoPaths.Fixture("lenet5-seed0", "reference.json")));
        using var json = JsonDocument.Parse(stdout);
        var root = json.RootElement;
        Assert.Equal(61706, root.GetProperty("parameterCount").GetInt64());
        Assert.Equal(101, root.GetProperty("rates").GetArrayLength());
        Assert.Equal(101, root.GetProperty("cosine").GetArrayLength());
        var knee = root.GetProperty("knee");
        Assert.Equal(reference.RootElement.GetProperty("knee").GetProperty("index").GetInt32(), knee.GetProperty("index").GetInt32());
        foreach (var field in new[] { "rate", "cosine", "distance" }) Assert.True(knee.TryGetProperty(field, out _), field);
        Assert.Equal(reference.RootElement.GetProperty("kurtosisOfKurtoses").GetDouble(), root.GetProperty("kurtosisOfKurtoses").GetDouble(), 6);
        Assert.Equal(reference.RootElement.GetProperty("safeRate").GetDouble(), root.GetProperty("safeRate").GetDouble(), 6);
        Assert.Equal(reference.RootElement.GetProperty("modifier").GetDouble(), root.GetProperty("modifier").GetDouble(), 6);
        Assert.Equal(JsonValueKind.Array, root.GetProperty("excludedTensors").ValueKind);
    }

    [Fact]
    public void TrainThenPrune_Json_ResultHasTheAccuraciesRateAndSparsity()
    {
        string dir = Directory.CreateTempSubdirectory("cli").FullName;
        try
        {
            string[] common = ["--model", "resnet18-cifar", "-w", "0.0625", "--synthetic-train", "320", "--synthetic-test", "160"];
            string baseline = Path.Combine(dir, "b.safetensors");
            var train = Run([.. "train".Split(' '), .. common, "--epochs", "1", "--batch-size", "32", "--warmup-steps", "5", "--output", baseline]);
            Assert.True(train.Code == 0, train.Err);
            Assert.Contains("test accuracy", train.Out, StringComparison.Ordinal);

            string pruned = Path.Combine(dir, "p.safetensors");
            var prune = Run([.. "prune".Split(' '), .. common, "--weights", baseline, "--rate", "knee", "--finetune-batch-size", "64",
                "--output", pruned, "--json"]);
            Assert.True(prune.Code == 0, prune.Err);
            using var json = JsonDocument.Parse(prune.Out);
            var root = json.RootElement;
            foreach (var field in new[] { "accuracyBefore", "accuracyAfterPrune", "accuracyAfterFinetune", "rate", "sparsity" })
                Assert.InRange(root.GetProperty(field).GetDouble(), 0, 100);
            Assert.Equal(root.GetProperty("analysis").GetProperty("knee").GetProperty("rate").GetDouble(), root.GetProperty("rate").GetDouble());
            Assert.True(root.GetProperty("sparsity").GetDouble() >= root.GetProperty("rate").GetDouble() - 1e-5);
            Assert.True(File.Exists(pruned));
            Assert.Contains("fine-tune epoch 1/1", prune.Err, StringComparison.Ordinal); // progress on stderr

            // One command from weights to a verified ONNX artifact; the same inputs give the same bytes.
            string[] toOnnx = [.. "prune".Split(' '), .. common, "--weights", baseline, "--rate", "0.5", "--finetune-batch-size", "64"];
            string onnxA = Path.Combine(dir, "a.onnx"), onnxB = Path.Combine(dir, "b.onnx");
            var a = Run([.. toOnnx, "--output", onnxA, "--output", Path.Combine(dir, "a.safetensors")]);
            Assert.True(a.Code == 0, a.Err);
            Assert.Contains("ONNX artifact", a.Out, StringComparison.Ordinal);
            Assert.True(File.Exists(Path.Combine(dir, "a.safetensors")));
            var b = Run([.. toOnnx, "--output", onnxB]);
            Assert.True(b.Code == 0, b.Err);
            Assert.Equal(File.ReadAllBytes(onnxA), File.ReadAllBytes(onnxB));
            var props = Onnx.ModelProto.Parser.ParseFrom(File.ReadAllBytes(onnxA)).MetadataProps.ToDictionary(p => p.Key, p => p.Value);
            Assert.Equal("0.5", props["compress.prune_rate"]);
            Assert.Equal("explicit", props["compress.prune_rate_source"]);
            foreach (var key in new[] { "compress.sparsity", "compress.accuracy_finetuned", "compress.seed", "compress.engine_version", "compress.source_weights_sha256" })
                Assert.True(props.ContainsKey(key), key);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void Models_ListsEveryArchitecture()
    {
        var (code, stdout, _) = Run("models");
        Assert.Equal(0, code);
        foreach (var name in new[] { "resnet18 ", "resnet18-cifar", "resnet56-cifar", "vgg-cifar", "lenet5" })
            Assert.Contains(name, stdout, StringComparison.Ordinal);
        Assert.Contains("11,173,962", stdout, StringComparison.Ordinal);
    }
}

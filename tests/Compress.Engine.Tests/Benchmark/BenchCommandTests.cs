using System.Text.Json;
using Compress.Cli;
using Compress.Engine.Tests.Cli;
using Compress.Engine.Tests.Data;

namespace Compress.Engine.Tests.Benchmark;

public class BenchCommandTests
{
    private static (int Code, string Out, string Err) Run(params string[] args) => CliRunner.Run(args);

    private static readonly string[] Fast =
        ["--synthetic-train", "320", "--synthetic-test", "160", "--warmup", "1", "--runs", "5", "--batch", "1", "--batch", "8"];

    [Fact]
    public void Bench_Json_HasTheContractFields()
    {
        using var dir = new TempDirectory();
        string path = TinyOnnx.Write(dir.Combine("tiny.onnx"));
        var (code, stdout, err) = Run(["bench", "--onnx", path, "--json", "--threads", "1", .. Fast]);
        Assert.True(code == 0, err);
        using var json = JsonDocument.Parse(stdout);
        var root = json.RootElement;
        var latency = root.GetProperty("latencyMs");
        foreach (var p in new[] { "p50", "p90", "p99" }) Assert.True(latency.GetProperty(p).GetDouble() > 0, p);
        var throughput = root.GetProperty("throughput");
        Assert.True(throughput.GetProperty("1").GetDouble() > 0);
        Assert.True(throughput.GetProperty("8").GetDouble() > 0);
        double accuracy = root.GetProperty("accuracy").GetDouble();
        Assert.InRange(accuracy, 0, 100);
        Assert.Equal(new FileInfo(path).Length, root.GetProperty("fileBytes").GetInt64());
        Assert.Equal(162, root.GetProperty("parameters").GetInt64());
        Assert.Equal((4L * 32 * 32 * 27) + 4 + 40, root.GetProperty("macs").GetInt64());
        Assert.Equal("cpu", root.GetProperty("device").GetString());
        Assert.Equal(1, root.GetProperty("threads").GetInt32());
        Assert.Equal("all", root.GetProperty("optimization").GetString());
        Assert.Equal(JsonValueKind.Null, root.GetProperty("baseline").ValueKind);
        Assert.Equal(JsonValueKind.Null, root.GetProperty("ratio").ValueKind);
    }

    [Fact]
    public void Bench_JsonWithBaseline_HasBaselineAndRatio()
    {
        using var dir = new TempDirectory();
        string path = TinyOnnx.Write(dir.Combine("tiny.onnx"));
        var (code, stdout, err) = Run(["bench", "--onnx", path, "--baseline", path, "--json", "--optimization", "basic", .. Fast]);
        Assert.True(code == 0, err);
        using var json = JsonDocument.Parse(stdout);
        var root = json.RootElement;
        var baseline = root.GetProperty("baseline");
        Assert.True(baseline.GetProperty("latencyMs").GetProperty("p50").GetDouble() > 0);
        Assert.Equal(root.GetProperty("fileBytes").GetInt64(), baseline.GetProperty("fileBytes").GetInt64());
        Assert.Equal("basic", baseline.GetProperty("optimization").GetString());
        var ratio = root.GetProperty("ratio");
        Assert.Equal(1.0, ratio.GetProperty("size").GetDouble());
        Assert.Equal(0.0, ratio.GetProperty("accuracyDifference").GetDouble());
        Assert.True(ratio.GetProperty("speedup").GetDouble() > 0);
        Assert.True(ratio.GetProperty("throughput").GetProperty("8").GetDouble() > 0);
    }

    [Fact]
    public void Bench_Table_ListsEveryMeasure()
    {
        using var dir = new TempDirectory();
        string path = TinyOnnx.Write(dir.Combine("tiny.onnx"));
        var (code, stdout, err) = Run(["bench", "--onnx", path, "--baseline", path, .. Fast]);
        Assert.True(code == 0, err);
        foreach (var row in new[] { "latency p50 (ms)", "images/s @ batch 8", "accuracy (%)", "file (bytes)", "parameters", "MACs / image", "x faster" })
            Assert.Contains(row, stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Bench_TextFile_ExitsWithCmp0504NamingIt()
    {
        using var dir = new TempDirectory();
        string path = dir.Combine("notes.onnx");
        File.WriteAllText(path, "not a model\n");
        var (code, _, err) = Run(["bench", "--onnx", path, .. Fast]);
        Assert.Equal(CliApp.ErrorExitCode, code);
        Assert.Contains("error CMP0504", err, StringComparison.Ordinal);
        Assert.Contains(path, err, StringComparison.Ordinal);
    }

    [Fact]
    public void Bench_MissingFile_ExitsWithCmp0005()
    {
        var (code, _, err) = Run(["bench", "--onnx", "/nonexistent/m.onnx", .. Fast]);
        Assert.Equal(CliApp.ErrorExitCode, code);
        Assert.Contains("error CMP0005", err, StringComparison.Ordinal);
    }

    [Fact]
    public void Bench_Cuda_WarnsCmp0505AndSucceedsOnCpu()
    {
        using var dir = new TempDirectory();
        string path = TinyOnnx.Write(dir.Combine("tiny.onnx"));
        var (code, stdout, err) = Run(["bench", "--onnx", path, "--device", "cuda", "--json", .. Fast]);
        Assert.True(code == 0, err);
        Assert.Contains("warning CMP0505", err, StringComparison.Ordinal);
        using var json = JsonDocument.Parse(stdout);
        Assert.Equal("cpu", json.RootElement.GetProperty("device").GetString());
    }

    [Theory]
    [InlineData("--device", "tpu")]
    [InlineData("--optimization", "max")]
    public void Bench_UnknownChoice_ExitsWithCmp0001(string option, string value)
    {
        var (code, _, err) = Run(["bench", "--onnx", "/nonexistent/m.onnx", option, value]);
        Assert.NotEqual(0, code);
        Assert.Contains("CMP0001", err, StringComparison.Ordinal);
    }
}

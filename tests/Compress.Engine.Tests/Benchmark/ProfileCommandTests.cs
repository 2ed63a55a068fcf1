using System.Text.Json;
using Compress.Cli;
using Compress.Engine.Tests.Cli;

namespace Compress.Engine.Tests.Benchmark;

public sealed class ProfileCommandTests
{
    private static (int Code, string Out, string Err) Run(params string[] args) => CliRunner.Run(args);

    /// <summary>
    /// LeNet-5 at width 1 on 1x28x28, counted by hand (conv = output elements x in x kH x kW, linear = in x out):
    /// conv1 6x28x28 x 1x5x5 = 117,600; conv2 (after the 2x2 pool, 14x14 in, no padding) 16x10x10 x 6x5x5 = 240,000;
    /// fc1 400x120 = 48,000; fc2 120x84 = 10,080; fc3 84x10 = 840. Total 416,520 (torchprofile says the same).
    /// </summary>
    private const long LeNetMacs = 117_600 + 240_000 + 48_000 + 10_080 + 840;

    private static JsonElement Json(string stdout)
    {
        using var doc = JsonDocument.Parse(stdout);
        return doc.RootElement.Clone();
    }

    [Fact]
    public void Profile_JsonVggCifar_HasTheLabsMacsAndTheContractFields()
    {
        var (code, stdout, err) = Run("profile", "--model", "vgg-cifar", "--json");
        Assert.True(code == 0, err);
        var root = Json(stdout);

        Assert.Equal("vgg-cifar", root.GetProperty("model").GetString());
        Assert.Equal(606_164_480, root.GetProperty("macs").GetInt64());
        Assert.Equal(9_228_362, root.GetProperty("parameters").GetInt64()); // tests/fixtures/profile: PyTorch's count
        Assert.Equal(4 * 9_228_362, root.GetProperty("bytes").GetInt64());
        Assert.Equal(JsonValueKind.Null, root.GetProperty("latencyMs").ValueKind);
        var layers = root.GetProperty("layers").EnumerateArray().ToArray();
        Assert.Equal(31, layers.Length); // 8 x (conv, bn, relu) + 4 pools + mean + flatten + classifier
        Assert.Equal(root.GetProperty("macs").GetInt64(), layers.Sum(l => l.GetProperty("macs").GetInt64()));
        Assert.Equal(root.GetProperty("bytes").GetInt64(), layers.Sum(l => l.GetProperty("bytes").GetInt64()));
        var first = layers[0];
        Assert.Equal("backbone.conv0", first.GetProperty("name").GetString());
        Assert.Equal("Conv", first.GetProperty("kind").GetString());
        Assert.Equal(new long[] { 64, 32, 32 }, first.GetProperty("outputShape").EnumerateArray().Select(d => d.GetInt64()));
        Assert.Equal(64L * 32 * 32 * 27, first.GetProperty("macs").GetInt64());
        Assert.Equal(64L * 27, first.GetProperty("parameters").GetInt64());
        Assert.Equal(4L * 64 * 27, first.GetProperty("bytes").GetInt64());
    }

    [Fact]
    public void Profile_ChannelRatioNaiveWithLastConvIgnored_HasTheLabsPrunedMacs()
    {
        // The lab prunes the first 7 convolutions by 30%, keeping the first channels; tests/fixtures/profile has
        // torchprofile's count of that model (305,388,064 MACs, 5,013,666 parameters).
        var (code, stdout, err) = Run("profile", "--model", "vgg-cifar", "--channel-ratio", "0.3", "--naive",
            "--ignore", "backbone.conv7", "--json");

        Assert.True(code == 0, err);
        var root = Json(stdout);
        using var reference = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "fixtures", "profile", "reference.json")));
        var lab = reference.RootElement.GetProperty("models").EnumerateArray().Single(m => m.GetProperty("name").GetString() == "vgg-cifar-naive-0.3");
        Assert.Equal(lab.GetProperty("macs").GetInt64(), root.GetProperty("macs").GetInt64());
        Assert.Equal(305_388_064, root.GetProperty("macs").GetInt64());
        Assert.Equal(lab.GetProperty("parameters").GetInt64(), root.GetProperty("parameters").GetInt64());
        var convs = root.GetProperty("layers").EnumerateArray().Where(l => l.GetProperty("kind").GetString() == "Conv")
            .Select(l => l.GetProperty("outputShape")[0].GetInt64());
        Assert.Equal(lab.GetProperty("convOutChannels").EnumerateArray().Select(c => c.GetInt64()), convs);
    }

    [Fact]
    public void Profile_ChannelRatioZero_ChangesNothing()
    {
        var (code, dense, err) = Run("profile", "--model", "resnet18-cifar", "-w", "0.25", "--json");
        Assert.True(code == 0, err);
        (code, var zero, err) = Run("profile", "--model", "resnet18-cifar", "-w", "0.25", "--channel-ratio", "0", "--json");
        Assert.True(code == 0, err);

        Assert.Equal(Json(dense).GetProperty("macs").GetInt64(), Json(zero).GetProperty("macs").GetInt64());
        Assert.Equal(Json(dense).GetProperty("parameters").GetInt64(), Json(zero).GetProperty("parameters").GetInt64());
    }

    [Fact]
    public void Profile_JsonLeNetWithWeights_HandDerivedMacs()
    {
        var (code, stdout, err) = Run("profile", "--model", "lenet5", "--weights",
            RepoPaths.Fixture("lenet5-seed0", "lenet5-seed0.safetensors"), "--json");
        Assert.True(code == 0, err);
        var root = Json(stdout);

        Assert.Equal(LeNetMacs, root.GetProperty("macs").GetInt64());
        Assert.Equal(61_706, root.GetProperty("parameters").GetInt64());
        // No BatchNorm: the state is the parameters.
        Assert.Equal(root.GetProperty("bytes").GetInt64(), root.GetProperty("stateBytes").GetInt64());
        var conv2 = root.GetProperty("layers").EnumerateArray().Single(l => l.GetProperty("name").GetString() == "conv2");
        Assert.Equal(240_000, conv2.GetProperty("macs").GetInt64());
        Assert.Equal(new long[] { 16, 10, 10 }, conv2.GetProperty("outputShape").EnumerateArray().Select(d => d.GetInt64()));
    }

    [Fact]
    public void Profile_JsonLatency_HasOrderedPercentiles()
    {
        var (code, stdout, err) = Run("profile", "--model", "lenet5", "-w", "0.25", "--latency", "--warmup", "1", "--runs", "5",
            "--threads", "1", "--json");
        Assert.True(code == 0, err);
        var latency = Json(stdout).GetProperty("latencyMs");

        double p50 = latency.GetProperty("p50").GetDouble(), p90 = latency.GetProperty("p90").GetDouble();
        Assert.True(p50 > 0);
        Assert.True(p90 >= p50);
    }

    [Fact]
    public void Profile_Table_ListsLayersAndTotals()
    {
        var (code, stdout, err) = Run("profile", "--model", "lenet5", "--latency", "--runs", "3", "--warmup", "0");
        Assert.True(code == 0, err);

        foreach (string expected in new[] { "conv1", "fc3", "6x28x28", "117,600", "macs 416,520", "parameters 61,706", "bytes 246,824", "latency p50" })
            Assert.Contains(expected, stdout, StringComparison.Ordinal);
        Assert.Contains(stdout.Split('\n'), line => line.StartsWith("total", StringComparison.Ordinal) && line.Contains("416,520", StringComparison.Ordinal));
    }

    [Fact]
    public void Profile_LatencyWithZeroRuns_ExitsWithCmp0001()
    {
        var (code, _, err) = Run("profile", "--model", "lenet5", "--latency", "--runs", "0");

        Assert.Equal(CliApp.UsageExitCode, code);
        Assert.Contains("error CMP0001", err, StringComparison.Ordinal);
    }
}

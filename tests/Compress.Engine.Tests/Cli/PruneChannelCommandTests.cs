using Compress.Cli;
using Compress.Engine.Tests.Data;
using Compress.Engine.Tests.Models.Onnx;

namespace Compress.Engine.Tests.Cli;

/// <summary><c>compress prune --method channel</c> from the command line, on an imported MobileNetV2.</summary>
public class PruneChannelCommandTests
{
    private static readonly string Model = OnnxImportFixtures.Get("mobilenet_v2-op17-bnkept.onnx").Path;

    private static string[] Common(params string[] more) =>
        ["prune", "--method", "channel", "--model", Model, "--synthetic-train", "64", "--synthetic-test", "32",
            "--finetune-batch-size", "32", .. more];

    [Fact]
    public void Prune_ChannelMethod_PrintsMacsParametersLatencyAndAReplayablePlan()
    {
        using var dir = new TempDirectory();
        string first = dir.Combine("a.onnx"), second = dir.Combine("b.onnx"), plan = dir.Combine("plan.json");
        int tempFolders = Directory.GetDirectories(Path.GetTempPath(), "compress-compare-*").Length;

        var (code, stdout, stderr) = CliRunner.Run(Common("--channel-ratio", "0.3", "--round-to", "2", "--ignore", "features.0.0",
            "--output", first, "--save-plan", plan, "--latency-runs", "5"));
        Assert.True(code == 0, stderr);
        Assert.Matches(@"MACs per image\s+[\d,]+ -> [\d,]+ \(\d+\.\d\dx fewer\)", stdout);
        Assert.Matches(@"latency \(ONNX Runtime\)\s+p50 \d+\.\d+ -> \d+\.\d+ ms", stdout);
        Assert.Contains("excluded x", stdout, StringComparison.Ordinal);
        Assert.Contains("ignored by user", stdout, StringComparison.Ordinal);
        Assert.Contains("channels: ", stderr, StringComparison.Ordinal);
        Assert.True(File.Exists(first));
        Assert.Equal(tempFolders, Directory.GetDirectories(Path.GetTempPath(), "compress-compare-*").Length);

        // The plan replays: the same channels, the same fine-tuning, the same bytes.
        var replay = CliRunner.Run(Common("--channel-plan", plan, "--output", second, "--latency-runs", "0"));
        Assert.True(replay.Code == 0, replay.Err);
        Assert.DoesNotContain("latency (ONNX Runtime)", replay.Out, StringComparison.Ordinal);
        Assert.Equal(File.ReadAllBytes(first), File.ReadAllBytes(second));
    }

    [Fact]
    public void Prune_ChannelOptionsWithoutChannelMethod_ExitsWithCmp0001()
    {
        var (code, _, err) = CliRunner.Run("prune", "--model", Model, "--channel-ratio", "0.3");
        Assert.Equal(CliApp.UsageExitCode, code);
        Assert.Contains("error CMP0001", err, StringComparison.Ordinal);
        Assert.Contains("--method channel", err, StringComparison.Ordinal);
    }

    [Fact]
    public void Prune_MissingPlanFile_ExitsWithCmp0707NamingIt()
    {
        using var dir = new TempDirectory();
        var (code, _, err) = CliRunner.Run(Common("--channel-plan", dir.Combine("none.json")));
        Assert.Equal(CliApp.ErrorExitCode, code);
        Assert.Contains("error CMP0707", err, StringComparison.Ordinal);
        Assert.Contains(dir.Combine("none.json"), err, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", err, StringComparison.Ordinal);
    }

    [Fact]
    public void Prune_PlanOfAnotherModel_ExitsWithCmp0706AndWritesNothing()
    {
        using var dir = new TempDirectory();
        string plan = dir.Combine("plan.json"), output = dir.Combine("out.onnx");
        File.WriteAllText(output, "previous good output");
        using (var other = Compress.Engine.Models.Onnx.OnnxImporter.Create(
                   Compress.Engine.Models.Onnx.OnnxImporter.Read(OnnxImportFixtures.Get("resnet18-op17-bnkept.onnx").Path)))
        {
            Compress.Engine.Pruning.Channels.ChannelPlanFile.Write(plan,
                Compress.Engine.Pruning.Channels.ChannelPruner.Plan(other, new Compress.Engine.Pruning.Channels.ChannelPruningOptions()), "resnet18");
        }
        var (code, _, err) = CliRunner.Run(Common("--channel-plan", plan, "--output", output));
        Assert.Equal(CliApp.ErrorExitCode, code);
        Assert.Contains("error CMP0706", err, StringComparison.Ordinal);
        Assert.Equal("previous good output", File.ReadAllText(output));
    }

    [Fact]
    public void Prune_CorruptPlanFile_ExitsWithCmp0707()
    {
        using var dir = new TempDirectory();
        string plan = dir.Combine("plan.json");
        File.WriteAllText(plan, "{ \"groups\": [ { \"id\": 0, ");
        var (code, _, err) = CliRunner.Run(Common("--channel-plan", plan));
        Assert.Equal(CliApp.ErrorExitCode, code);
        Assert.Contains("error CMP0707", err, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--criterion", "gradient")]
    [InlineData("--scope", "layer")]
    [InlineData("--schedule", "iterative")]
    public void Prune_UnstructuredOptionsWithoutUnstructuredMethod_ExitsWithCmp0001(string option, string value)
    {
        var (code, _, err) = CliRunner.Run("prune", "--model", Model, option, value);
        Assert.Equal(CliApp.UsageExitCode, code);
        Assert.Contains("error CMP0001", err, StringComparison.Ordinal);
        Assert.Contains("--method unstructured", err, StringComparison.Ordinal);
    }

    [Fact]
    public void Prune_StepsWithoutIterativeSchedule_ExitsWithCmp0001()
    {
        var (code, _, err) = CliRunner.Run("prune", "--method", "unstructured", "--model", Model, "--steps", "3");
        Assert.Equal(CliApp.UsageExitCode, code);
        Assert.Contains("error CMP0001", err, StringComparison.Ordinal);
        Assert.Contains("--schedule iterative", err, StringComparison.Ordinal);
    }

    [Fact]
    public void Prune_UnstructuredMaskPlan_ReplaysToTheSameBytes_AndAPlanOfAnotherModelIsCmp0708()
    {
        using var dir = new TempDirectory();
        string first = dir.Combine("a.onnx"), second = dir.Combine("b.onnx"), plan = dir.Combine("mask.json");
        string[] common = ["prune", "--method", "unstructured", "--model", Model, "--synthetic-train", "64", "--synthetic-test", "32",
            "--finetune-batch-size", "32", "--rate", "0.6"];
        var (code, _, err) = CliRunner.Run([.. common, "--criterion", "gradient", "--scope", "layer", "--output", first, "--save-plan", plan]);
        Assert.True(code == 0, err);
        Assert.Contains("\"format\": \"compress.mask-plan/1\"", File.ReadAllText(plan), StringComparison.Ordinal);
        var replay = CliRunner.Run([.. common, "--mask-plan", plan, "--output", second]);
        Assert.True(replay.Code == 0, replay.Err);
        Assert.Contains("prune: mask from", replay.Err, StringComparison.Ordinal);
        // The same mask, the same fine-tuning: the same artifact, apart from how the rate was chosen (recorded in it).
        var a = Onnx.ModelProto.Parser.ParseFrom(File.ReadAllBytes(first));
        var b = Onnx.ModelProto.Parser.ParseFrom(File.ReadAllBytes(second));
        Assert.Equal(a.Graph.Initializer.Select(t => t.RawData.ToBase64()), b.Graph.Initializer.Select(t => t.RawData.ToBase64()));

        string other = OnnxImportFixtures.Get("resnet18-op17-bnkept.onnx").Path;
        var wrong = CliRunner.Run(["prune", "--method", "unstructured", "--model", other, "--mask-plan", plan]);
        Assert.Equal(CliApp.ErrorExitCode, wrong.Code);
        Assert.Contains("error CMP0708", wrong.Err, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", wrong.Err, StringComparison.Ordinal);
    }
}

using System.Buffers.Binary;
using System.Text;
using Compress.Cli;
using Compress.Engine.Models;
using Compress.Engine.Tests.Data;
using Compress.Engine.Tests.Fuzzing;
using Compress.Engine.Tests.Models;

namespace Compress.Engine.Tests.Cli;

/// <summary>
/// Inputs and folders for <see cref="BadInputMatrixTests"/>: one good <c>compress run</c> (the previous result every case
/// must leave as it was) and a folder of bad files of every kind.
/// </summary>
public sealed class BadInputMatrixFixture : IDisposable
{
    private readonly TempDirectory _root = new();

    public BadInputMatrixFixture()
    {
        Good = _root.Combine("good");
        var (code, _, err) = CliRunner.Run(["run", .. BadInputMatrixTests.Tiny.Split(' '), "-o", Good]);
        Assert.True(code == 0, err);
        In = _root.Combine("in");
        Directory.CreateDirectory(In);
        string weights = Path.Combine(Good, "baseline.safetensors");
        byte[] good = File.ReadAllBytes(weights);
        Write("good.safetensors", good);
        Write("truncated.safetensors", good[..(good.Length / 2)]);
        Write("garbage.safetensors", [.. Enumerable.Range(0, 4096).Select(i => (byte)((i * 2654435761L) >> 13))]);
        Write("empty.safetensors", []);
        File.Copy(ModelFixtures.LeNet5Safetensors, Path.Combine(In, "lenet5.safetensors"));
        var (tensors, metadata) = SafetensorsFile.Read(weights);
        var nan = tensors.Select((t, i) => i == 0 ? (t.Key, t.Tensor with { Data = [.. Enumerable.Repeat(new byte[] { 0, 0, 0xC0, 0x7F }, t.Tensor.Data.Length / 4).SelectMany(b => b)] }) : t).ToList();
        SafetensorsFile.Write(Path.Combine(In, "nan.safetensors"), nan, metadata);
        byte[] small = FuzzTargets.SmallSafetensors();
        small[small.AsSpan().IndexOf("fuzz seed"u8)] = 0xFF; // a byte that is not UTF-8 inside a metadata string
        Write("bad-utf8.safetensors", small);

        string pt = ModelFixtures.Get("lenet5-wrapped").CheckpointPath;
        byte[] ptBytes = File.ReadAllBytes(pt);
        Write("truncated.pt", ptBytes[..(ptBytes.Length / 2)]);
        Write("legacy.pt", [0x80, 0x02, 0x8a, 0x0a, .. new byte[64]]);
        Write("calls.pt", FuzzTargets.ReplaceEntry(pt, "data.pkl",
            [0x80, 0x02, (byte)'}', (byte)'X', 1, 0, 0, 0, (byte)'x', (byte)'c', .. "posix\nsystem\n"u8.ToArray(), (byte)'X', 2, 0, 0, 0,
             .. "id"u8.ToArray(), 0x85, (byte)'R', (byte)'s', (byte)'.']));

        Write("expanded.pt", FuzzTargets.ReplaceEntry(pt, "data.pkl", PyTorchCheckpointFileTests.ExpandedViewPickle()));

        byte[] onnx = File.ReadAllBytes(Path.Combine(Good, "pruned.onnx"));
        Write("good.onnx", onnx);
        Write("truncated.onnx", onnx[..(onnx.Length / 2)]);
        Write("garbage.onnx", [.. Enumerable.Range(0, 2048).Select(i => (byte)((i * 40503L) >> 7))]);
        Write("empty.onnx", []);
        Write("text.onnx", "this is not a model\n"u8.ToArray());

        string colours = Spec.ColourImageFolder.Write(Path.Combine(In, "colours"), trainPerClass: 4, testPerClass: 2);
        CopyFolder(colours, Path.Combine(In, "colours-empty-test"));
        foreach (string f in Directory.GetFiles(Path.Combine(In, "colours-empty-test", "test"), "*.png", SearchOption.AllDirectories)) File.Delete(f);
        CopyFolder(colours, Path.Combine(In, "colours-corrupt"));
        string victim = Directory.GetFiles(Path.Combine(In, "colours-corrupt", "train", "c1"), "*.png")[0];
        File.WriteAllBytes(victim, File.ReadAllBytes(victim)[..40]);

        Directory.CreateDirectory(Path.Combine(In, "cifar-size"));
        DataFiles.WriteCifar(Path.Combine(In, "cifar-size", "data_batch_1.bin"), [1, 2]);
        File.AppendAllText(Path.Combine(In, "cifar-size", "data_batch_1.bin"), "extra");
        DataFiles.WriteCifar(Path.Combine(In, "cifar-size", "test_batch.bin"), [3]);
        Directory.CreateDirectory(Path.Combine(In, "cifar-short-test"));
        DataFiles.WriteCifar(Path.Combine(In, "cifar-short-test", "data_batch_1.bin"), [1, 2]);
        File.WriteAllBytes(Path.Combine(In, "cifar-short-test", "test_batch.bin"), new byte[100]);
        Directory.CreateDirectory(Path.Combine(In, "cifar-label"));
        DataFiles.WriteCifar(Path.Combine(In, "cifar-label", "data_batch_1.bin"), [1, 12]);
        DataFiles.WriteCifar(Path.Combine(In, "cifar-label", "test_batch.bin"), [3]);
        Directory.CreateDirectory(Path.Combine(In, "mnist-bomb"));
        DataFiles.WriteMnist(Path.Combine(In, "mnist-bomb"), gzip: true);
        byte[] bomb = DataFiles.IdxImages(1, 28, 28);
        BinaryPrimitives.WriteInt32BigEndian(bomb.AsSpan(4), 100_000_000); // declares 78 GB of pixels
        DataFiles.WriteGzip(Path.Combine(In, "mnist-bomb", "train-images-idx3-ubyte.gz"), bomb);
        Write("not-a-folder.bin", [1, 2, 3]);

        Write("bad-plan.json", "{ \"groups\": 5 }"u8.ToArray());
        Write("bad-mask.json", "not json at all"u8.ToArray());
        Write("bad-sparsity.json", "{ \"conv1.weight\": 2 }"u8.ToArray());

        GoodSnapshot = Snapshot(Good);
    }

    /// <summary>The folder of the previous good result.</summary>
    public string Good { get; }

    /// <summary>The folder of bad (and a few good) inputs.</summary>
    public string In { get; }

    /// <summary>Every file of <see cref="Good"/> with its bytes.</summary>
    public IReadOnlyDictionary<string, string> GoodSnapshot { get; }

    /// <summary>A new case folder holding <c>out</c>, a copy of the good result.</summary>
    public string NewCase(string id)
    {
        string folder = _root.Combine("cases", id);
        CopyFolder(Good, Path.Combine(folder, "out"));
        return folder;
    }

    public static SortedDictionary<string, string> Snapshot(string folder) => new(
        Directory.EnumerateFileSystemEntries(folder, "*", SearchOption.AllDirectories).ToDictionary(
            p => Path.GetRelativePath(folder, p), p => File.Exists(p) ? Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(p))) : "<folder>"),
        StringComparer.Ordinal);

    public void Dispose() => _root.Dispose();

    private void Write(string name, byte[] bytes) => File.WriteAllBytes(Path.Combine(In, name), bytes);

    private static void CopyFolder(string from, string to)
    {
        foreach (string dir in Directory.GetDirectories(from, "*", SearchOption.AllDirectories))
            Directory.CreateDirectory(Path.Combine(to, Path.GetRelativePath(from, dir)));
        Directory.CreateDirectory(to);
        foreach (string file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
            File.Copy(file, Path.Combine(to, Path.GetRelativePath(from, file)));
    }
}

/// <summary>
/// The bad-input matrix: every kind of bad input, option and signal against a folder that holds a previous good result.
/// Each case asserts the code, the exit code, one coded line without a stack trace, and that the previous result is
/// byte-identical afterwards with nothing added (no temp or staging file).
/// </summary>
public sealed class BadInputMatrixTests(BadInputMatrixFixture fixture) : IClassFixture<BadInputMatrixFixture>
{
    /// <summary>A model and data small enough for a run in seconds.</summary>
    internal const string Tiny = "-w 0.0625 --synthetic-train 128 --synthetic-test 64 --epochs 1 --batch-size 32 --warmup-steps 2 --finetune-batch-size 64";

    private const string Run = "run " + Tiny + " -o {OUT}";
    private const string Prune = "prune -w 0.0625 --synthetic-train 128 --synthetic-test 64 --finetune-batch-size 64 --weights {IN}/good.safetensors -o {OUT}/pruned.safetensors -o {OUT}/pruned.onnx --plot {OUT}/cosine.png";
    private const string Colours = "run -w 0.0625 --classes 4 --epochs 1 --batch-size 8 --warmup-steps 1 -o {OUT} --data {IN}/";

    /// <summary>The spec every spec case starts from: valid, writing into the case's <c>out</c> folder.</summary>
    private const string GoodSpec = """
        { "name": "pruned", "model": { "architecture": "resnet18-cifar", "widthMultiplier": 0.0625 }, "syntheticTrain": 128,
          "syntheticTest": 64, "baselineEpochs": 1, "outputDirectory": "out", "intermediateDirectory": "obj" %EXTRA% }
        """;

    public static TheoryData<string, string, string, int> Cases => new()
    {
        // Options: usage errors, exit code 2.
        { "unknown-option", Run + " --bogus", "CMP0001", 2 },
        { "threads-negative", Run + " --threads -1", "CMP0001", 2 },
        { "threads-absurd", Run + " --threads 100000", "CMP0001", 2 },
        { "device-unknown", Run + " --device tpu", "CMP0001", 2 },
        { "epochs-negative", Run + " --epochs -1", "CMP0001", 2 },
        { "batch-zero", Run + " --batch-size 0", "CMP0001", 2 },
        { "finetune-lr-negative", Run + " --finetune-lr -1", "CMP0401", 1 },
        { "synthetic-zero", Run + " --synthetic-train 0", "CMP0001", 2 },
        { "synthetic-absurd", Run + " --synthetic-test 600000", "CMP0001", 2 },
        { "method-unknown", Prune + " --method bogus", "CMP0001", 2 },
        { "missing-value", Run + " --seed", "CMP0001", 2 },
        { "not-a-number", Run + " --epochs many", "CMP0001", 2 },
        // Values the engine refuses with their own codes.
        { "rate-above-one", Run + " --rate 1.5", "CMP0301", 1 },
        { "rate-text", Run + " --rate some", "CMP0301", 1 },
        { "width-absurd", "run -w 1e308 --synthetic-train 128 --synthetic-test 64 -o {OUT}", "CMP0102", 1 },
        { "width-zero", "run -w 0 --synthetic-train 128 --synthetic-test 64 -o {OUT}", "CMP0102", 1 },
        { "classes-one", Run + " --classes 1", "CMP0102", 1 },
        { "architecture-unknown", "run --model resnet19 -o {OUT}", "CMP0101", 1 },
        { "cuda-absent", Run + " --device cuda", "CMP0003", 1 },
        { "channel-ratio-one", Prune + " --method channel --channel-ratio 1", "CMP0701", 1 },
        // Weights files.
        { "weights-missing", Run + " --weights {IN}/missing.safetensors", "CMP0005", 1 },
        { "weights-truncated", Run + " --weights {IN}/truncated.safetensors", "CMP0103", 1 },
        { "weights-garbage", Run + " --weights {IN}/garbage.safetensors", "CMP0103", 1 },
        { "weights-empty", Run + " --weights {IN}/empty.safetensors", "CMP0103", 1 },
        { "weights-nan", Run + " --weights {IN}/nan.safetensors", "CMP0107", 1 },
        { "weights-other-model", Run + " --weights {IN}/lenet5.safetensors", "CMP0104", 1 },
        { "weights-bad-utf8", Run + " --weights {IN}/bad-utf8.safetensors", "CMP0103", 1 },
        { "pt-truncated", Run + " --weights {IN}/truncated.pt", "CMP0103", 1 },
        { "pt-legacy", Run + " --weights {IN}/legacy.pt", "CMP0103", 1 },
        { "pt-calls-code", Run + " --weights {IN}/calls.pt", "CMP0103", 1 },
        { "pt-expanded-view", Run + " --weights {IN}/expanded.pt", "CMP0103", 1 },
        { "finetune-diverges", Run + " --finetune-lr 1e30", "CMP0402", 1 },
        { "prune-weights-truncated", Prune.Replace("good.safetensors", "truncated.safetensors", StringComparison.Ordinal), "CMP0103", 1 },
        { "export-weights-garbage", "export -w 0.0625 --weights {IN}/garbage.safetensors -o {OUT}/pruned.onnx", "CMP0103", 1 },
        // ONNX models.
        { "onnx-missing", "run --model {IN}/missing.onnx --synthetic-train 128 --synthetic-test 64 -o {OUT}", "CMP0005", 1 },
        { "onnx-truncated", "run --model {IN}/truncated.onnx --synthetic-train 128 --synthetic-test 64 -o {OUT}", "CMP0504", 1 },
        { "onnx-garbage", "run --model {IN}/garbage.onnx --synthetic-train 128 --synthetic-test 64 -o {OUT}", "CMP0504", 1 },
        { "onnx-empty", "run --model {IN}/empty.onnx --synthetic-train 128 --synthetic-test 64 -o {OUT}", "CMP0504", 1 },
        { "onnx-text", "run --model {IN}/text.onnx --synthetic-train 128 --synthetic-test 64 -o {OUT}", "CMP0504", 1 },
        { "evaluate-onnx-truncated", "evaluate --model {IN}/truncated.onnx --synthetic-test 64", "CMP0504", 1 },
        // Data.
        { "data-missing", Colours + "nowhere", "CMP0201", 1 },
        { "data-empty-test", Colours + "colours-empty-test", "CMP0206", 1 },
        { "data-corrupt-image", Colours + "colours-corrupt", "CMP0204", 1 },
        { "data-cifar-test-truncated", Run.Replace(Tiny, "-w 0.0625 --epochs 1", StringComparison.Ordinal) + " --data {IN}/cifar-short-test", "CMP0202", 1 },
        { "data-cifar-size", Run.Replace(Tiny, "-w 0.0625 --epochs 1", StringComparison.Ordinal) + " --data {IN}/cifar-size", "CMP0202", 1 },
        { "data-cifar-label", Run.Replace(Tiny, "-w 0.0625 --epochs 1", StringComparison.Ordinal) + " --data {IN}/cifar-label", "CMP0203", 1 },
        { "data-mnist-bomb", "run --model lenet5 --epochs 1 -o {OUT} --data {IN}/mnist-bomb", "CMP0203", 1 },
        { "data-is-a-file", Colours + "not-a-folder.bin", "CMP0201", 1 },
        // Plan files.
        { "channel-plan-bad", Prune + " --method channel --channel-plan {IN}/bad-plan.json", "CMP0707", 1 },
        { "channel-plan-missing", Prune + " --method channel --channel-plan {IN}/none.json", "CMP0707", 1 },
        { "mask-plan-bad", Prune + " --method unstructured --mask-plan {IN}/bad-mask.json", "CMP0708", 1 },
        // Specs (run --spec): read before any training, coded at their line and column.
        { "spec-missing", "run --spec {CASE}/none.json", "CMP0005", 1 },
        { "spec-syntax", "run --spec {SPEC}:{ \"name\": ", "CMP0620", 1 },
        { "spec-empty", "run --spec {SPEC}:", "CMP0620", 1 },
        { "spec-bad-utf8", "run --spec {SPEC}:{ \"name\": \"caf\u00ff\" }", "CMP0620", 1 },
        { "spec-architecture", "run --spec {SPEC}:%GOOD%, \"model\": { \"architecture\": \"resnet19\" }", "CMP0101", 1 },
        { "spec-threads", "run --spec {SPEC}:%GOOD%, \"threads\": 5000", "CMP0622", 1 },
        { "spec-layer", "run --spec {SPEC}:%GOOD%, \"method\": \"channel\", \"ignoredLayers\": [\"conv9\"]", "CMP0702", 1 },
        { "spec-name-newline", "run --spec {SPEC}:%GOOD%, \"name\": \"a\\nb\"", "CMP0622", 1 },
        { "spec-output-nul", "run --spec {SPEC}:%GOOD%, \"outputDirectory\": \"o\\u0000x\"", "CMP0622", 1 },
        { "spec-output-outside", "run --spec {SPEC}:{ \"name\": \"pruned\", \"outputDirectory\": \"/etc/compress-test\" }", "CMP0626", 1 },
        { "spec-output-under-file", "run --spec {SPEC}:{ \"name\": \"pruned\", \"outputDirectory\": \"out/result.json/x\" }", "CMP0004", 1 },
        { "spec-weights-missing", "run --spec {SPEC}:%GOOD%, \"weights\": \"none.safetensors\"", "CMP0005", 1 },
        { "spec-weights-corrupt", "run --spec {SPEC}:%GOOD%, \"weights\": \"{IN}/truncated.safetensors\"", "CMP0103", 1 },
        { "spec-data-missing", "run --spec {SPEC}:%GOOD%, \"data\": \"nowhere\"", "CMP0201", 1 },
        { "spec-sparsity-bad", "run --spec {SPEC}:%GOOD%, \"method\": \"layerwise\", \"sparsity\": \"{IN}/bad-sparsity.json\"", "CMP0751", 1 },
        { "spec-rate", "run --spec {SPEC}:%GOOD%, \"pruneRate\": 1.5", "CMP0301", 1 },
        { "spec-onnx-layer", "run --spec {SPEC}:{ \"name\": \"pruned\", \"model\": \"{IN}/good.onnx\", \"syntheticTrain\": 128, \"syntheticTest\": 64, \"fineTuneEpochs\": 0, \"outputDirectory\": \"out\", \"intermediateDirectory\": \"obj\", \"method\": \"channel\", \"channelRatio\": 0.3, \"ignoredLayers\": [\"conv9\"] }", "CMP0702", 1 },
        { "spec-synthetic-absurd", "run --spec {SPEC}:%GOOD%, \"syntheticTrain\": 600000", "CMP0622", 1 },
        { "report-missing", "report {CASE}/none.report.json", "CMP0625", 1 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void BadInput_IsItsCodeAndExitCode_AndLeavesThePreviousResultByteIdentical(string id, string command, string code, int exit)
    {
        string folder = fixture.NewCase(id);
        string[] args = Arguments(command, folder);

        var (actual, _, err) = CliRunner.Run(args);

        Assert.True(actual == exit, $"{id}: exit {actual}, expected {exit}: {err}");
        Assert.True(err.Contains($"error {code}: ", StringComparison.Ordinal), $"{id}: expected {code}: {err}");
        Assert.DoesNotContain("   at ", err, StringComparison.Ordinal);
        Assert.DoesNotContain("CMP0007", err, StringComparison.Ordinal);
        // A spec's problems point at the spec, with a line and column (what MSBuild and editors jump to).
        if (id.StartsWith("spec-", StringComparison.Ordinal) && id != "spec-missing")
            Assert.True(err.Contains(Path.Combine(folder, "spec.json") + "(", StringComparison.Ordinal), $"{id}: no position in the spec: {err}");
        Assert.Equal(fixture.GoodSnapshot, BadInputMatrixFixture.Snapshot(Path.Combine(folder, "out")));
    }

    [Theory]
    [InlineData("before-start", null)]
    [InlineData("during-baseline", "train epoch 1/1")]
    [InlineData("after-export", "export: verified")]
    public void Cancellation_IsCmp0006WithExitCode130_AndLeavesThePreviousResultByteIdentical(string id, string? trigger)
    {
        string folder = fixture.NewCase("cancel-" + id);
        using var cancellation = new CancellationTokenSource();
        if (trigger is null) cancellation.Cancel();
        using var stdout = new StringWriter();
        using var stderr = new TriggerWriter(trigger, cancellation);

        int code = CliApp.Run(Arguments(Run, folder), stdout, stderr, cancellation.Token);

        string err = stderr.ToString();
        Assert.True(code == CliApp.CancelledExitCode, err);
        Assert.Contains("error CMP0006: Cancelled", err, StringComparison.Ordinal);
        Assert.True(trigger is null || stderr.Fired, "the trigger line was never written");
        Assert.Equal(fixture.GoodSnapshot, BadInputMatrixFixture.Snapshot(Path.Combine(folder, "out")));
    }

    [Fact]
    public void TheMatrix_HasAtLeastSixtyCases() => Assert.True(Cases.Count >= 60, $"{Cases.Count} cases");

    /// <summary>The command's arguments: {OUT}, {IN}, {CASE} replaced; {SPEC}:text written as the case's spec.</summary>
    private string[] Arguments(string command, string folder)
    {
        string spec = Path.Combine(folder, "spec.json");
        var args = new List<string>();
        foreach (string part in command.Split(' ', 2) is [var verb, var rest] && rest.Contains("{SPEC}:", StringComparison.Ordinal)
                     ? [verb, .. rest[..rest.IndexOf("{SPEC}:", StringComparison.Ordinal)].Split(' ', StringSplitOptions.RemoveEmptyEntries), "{SPEC}"]
                     : command.Split(' '))
            args.Add(part.Replace("{OUT}", Path.Combine(folder, "out"), StringComparison.Ordinal).Replace("{IN}", fixture.In, StringComparison.Ordinal)
                .Replace("{CASE}", folder, StringComparison.Ordinal).Replace("{SPEC}", spec, StringComparison.Ordinal));
        int at = command.IndexOf("{SPEC}:", StringComparison.Ordinal);
        if (at >= 0)
        {
            string text = command[(at + "{SPEC}:".Length)..];
            if (text.StartsWith("%GOOD%", StringComparison.Ordinal))
                text = GoodSpec.Replace("%EXTRA%", text["%GOOD%".Length..], StringComparison.Ordinal);
            text = text.Replace("{IN}", fixture.In, StringComparison.Ordinal);
            // \u00ff in a case stands for a byte that is not UTF-8.
            byte[] bytes = Encoding.UTF8.GetBytes(text);
            File.WriteAllBytes(spec, [.. bytes.SelectMany((b, i) => b == 0xC3 && i + 1 < bytes.Length && bytes[i + 1] == 0xBF ? new byte[] { 0xFF } : b == 0xBF && i > 0 && bytes[i - 1] == 0xC3 ? [] : [b])]);
        }
        return [.. args];
    }

    /// <summary>Cancels when a line containing the trigger is written (the CLI's progress goes to stderr).</summary>
    private sealed class TriggerWriter(string? trigger, CancellationTokenSource cancellation) : StringWriter
    {
        public bool Fired { get; private set; }

        public override void Write(string? value)
        {
            base.Write(value);
            Check(value);
        }

        public override void WriteLine(string? value)
        {
            base.WriteLine(value);
            Check(value);
        }

        private void Check(string? value)
        {
            if (trigger is null || value is null || !value.Contains(trigger, StringComparison.Ordinal)) return;
            Fired = true;
            cancellation.Cancel();
        }
    }
}

using System.Text.Json;
using Compress.Engine.Diagnostics;
using Compress.Engine.Pipeline;
using Compress.Engine.Training;

namespace Compress.Engine.Tests.Pipeline;

public sealed class MainJobTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("mainjob").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    [Fact]
    public void Run_TinySettings_WritesEveryOutputAndAConsistentResultJson()
    {
        var sink = new CollectingSink();
        var result = MainJob.Run(new MainJob.Options
        {
            Model = TinySetup.TinyResNet,
            Data = TinySetup.SmallData,
            Baseline = TrainingOptions.CifarBaseline with { Epochs = 1, BatchSize = 32, WarmupSteps = 5 },
            FineTune = TrainingOptions.PaperFineTune with { BatchSize = 64 },
            OutputDirectory = _dir,
        }, sink);

        foreach (var file in new[] { "baseline.safetensors", "pruned.safetensors", "pruned.onnx", "cosine.png", "result.json" })
            Assert.True(File.Exists(Path.Combine(_dir, file)), file);
        Assert.Empty(Directory.GetFiles(_dir, "*.tmp"));
        Assert.NotNull(result.Baseline);
        Assert.Equal(result.Baseline.Accuracy, result.Prune.AccuracyBefore, 6);
        // The exported artifact, run in ONNX Runtime, classifies the test split as the TorchSharp model does.
        Assert.NotNull(result.Prune.AccuracyOnnx);
        Assert.True(Math.Abs(result.Prune.AccuracyOnnx.Value - result.Prune.AccuracyAfterFinetune) < 0.1,
            $"ONNX {result.Prune.AccuracyOnnx}% vs TorchSharp {result.Prune.AccuracyAfterFinetune}%");
        Assert.NotNull(result.Prune.Export?.Compaction);

        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(_dir, "result.json")));
        var prune = json.RootElement.GetProperty("prune");
        Assert.Equal(result.Prune.AccuracyAfterFinetune, prune.GetProperty("accuracyAfterFinetune").GetDouble());
        Assert.Equal("safe", prune.GetProperty("rateSource").GetString());
        Assert.Contains(sink.ProgressLines, l => l.StartsWith("train epoch 1/1", StringComparison.Ordinal));
        Assert.Contains(sink.ProgressLines, l => l.StartsWith("fine-tune epoch 1/1", StringComparison.Ordinal));
    }

    [Fact]
    public void Run_CancelledAfterTheExport_LeavesThePreviousOutputsByteIdentical()
    {
        var options = new MainJob.Options
        {
            Model = TinySetup.TinyResNet,
            Data = TinySetup.SmallData,
            Baseline = TrainingOptions.CifarBaseline with { Epochs = 1, BatchSize = 32, WarmupSteps = 5 },
            FineTune = TrainingOptions.PaperFineTune with { BatchSize = 64 },
            OutputDirectory = _dir,
        };
        MainJob.Run(options, new CollectingSink());
        var before = Snapshot();

        // A second run with another seed (so every file would change), cancelled once its ONNX is written and verified:
        // baseline, pruned weights, plot and ONNX are all staged by then.
        using var cancellation = new CancellationTokenSource();
        var sink = new CancellingSink(cancellation, "export: verified");
        Assert.ThrowsAny<OperationCanceledException>(() =>
            MainJob.Run(options with { Run = options.Run with { Seed = 7 } }, sink, cancellation.Token));

        Assert.True(sink.Cancelled);
        Assert.Equal(before, Snapshot());
        Assert.Contains(sink.Lines, l => l.StartsWith("output: nothing replaced; discarded the unfinished baseline.safetensors", StringComparison.Ordinal));
    }

    /// <summary>Every entry of the output folder (folders too) with its bytes, hex.</summary>
    private SortedDictionary<string, string> Snapshot() => new(
        Directory.GetFileSystemEntries(_dir).ToDictionary(p => Path.GetFileName(p), p => File.Exists(p) ? Convert.ToHexString(File.ReadAllBytes(p)) : "<folder>"),
        StringComparer.Ordinal);

    private sealed class CancellingSink(CancellationTokenSource cancellation, string trigger) : IDiagnosticSink
    {
        public List<string> Lines { get; } = [];
        public bool Cancelled { get; private set; }

        public void Report(Diagnostic diagnostic) => Lines.Add(diagnostic.Message);

        public void Progress(string message)
        {
            Lines.Add(message);
            if (!message.StartsWith(trigger, StringComparison.Ordinal)) return;
            Cancelled = true;
            cancellation.Cancel();
        }
    }
}

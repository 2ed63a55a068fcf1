using Compress.Engine.Diagnostics;
using Compress.Engine.Models;
using Compress.Engine.Pipeline;
using Compress.Engine.Pruning;
using Compress.Engine.Tests.Data;
using Compress.Engine.Training;
using static TorchSharp.torch;

namespace Compress.Engine.Tests.Pipeline;

public class CompareJobTests
{
    private static CompareJob.Options Options(TempDirectory dir, string weights) => new()
    {
        Model = TinySetup.TinyResNet,
        Weights = weights,
        Data = TinySetup.SmallData,
        Criteria = ["magnitude", "random"],
        Scopes = [PruneScope.Global, PruneScope.Layer],
        Fractions = [0.5, 0.9],
        FineTune = TrainingOptions.PaperFineTune with { Epochs = 1, BatchSize = 64 },
        OutputDirectory = dir.Combine("compare"),
    };

    private static string Seeded(TempDirectory dir)
    {
        string weights = dir.Combine("seeded.safetensors");
        manual_seed(0);
        using var model = ModelFactory.Create(TinySetup.TinyResNet);
        Checkpoint.SaveSafetensors(model, weights);
        return weights;
    }

    [Fact]
    public void Run_EveryCellOfTheGrid_ThenResumesFromTheCache()
    {
        using var dir = new TempDirectory();
        string weights = Seeded(dir);
        var sink = new CollectingSink();
        var first = CompareJob.Run(Options(dir, weights), sink);

        Assert.Equal(8, first.Cells.Count);
        Assert.Equal(["magnitude", "random"], first.Cells.Select(c => c.Criterion).Distinct());
        Assert.All(first.Cells, c => Assert.False(c.Cached));
        // A fraction of the conv weights gone: the compression ratio grows with the fraction, and is about the same for
        // both scopes (per-layer rounding differs by a few weights).
        var ratios = first.Cells.GroupBy(c => c.Fraction).ToDictionary(g => g.Key, g => g.Average(c => c.CompressionRatio));
        Assert.All(first.Cells, c => Assert.InRange(c.CompressionRatio, ratios[c.Fraction] * 0.99, ratios[c.Fraction] * 1.01));
        Assert.True(ratios[0.9] > ratios[0.5] && ratios[0.5] > 1.5, string.Join(", ", ratios));
        Assert.True(File.Exists(first.Json));
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], File.ReadAllBytes(first.Plot).Take(4));
        Assert.Contains(sink.ProgressLines, l => l.StartsWith("compare: cell 8/8", StringComparison.Ordinal) && l.Contains("left", StringComparison.Ordinal));

        // The same grid again: nothing is recomputed, and the numbers are the same.
        var second = CompareJob.Run(Options(dir, weights), DiagnosticSinks.None);
        Assert.All(second.Cells, c => Assert.True(c.Cached));
        Assert.Equal(first.Cells.Select(c => (c.AccuracyFineTuned, c.CompressionRatio)), second.Cells.Select(c => (c.AccuracyFineTuned, c.CompressionRatio)));

        // Another fine-tuning recipe is another cell.
        var third = CompareJob.Run(Options(dir, weights) with { Fractions = [0.5], Criteria = ["magnitude"], Scopes = [PruneScope.Global],
            FineTune = TrainingOptions.PaperFineTune with { Epochs = 0 } }, DiagnosticSinks.None);
        Assert.False(Assert.Single(third.Cells).Cached);
    }

    [Fact]
    public void Run_ChannelGranularity_MeasuresMacsAndSpeedupAndLeavesNoTempFiles()
    {
        using var dir = new TempDirectory();
        string weights = Seeded(dir);
        var result = CompareJob.Run(Options(dir, weights) with
        {
            Granularity = "channel",
            Criteria = ["magnitude", "gradient"],
            Scopes = [PruneScope.Global],
            Fractions = [0.5],
            LatencyRuns = 3,
            GradientImages = 32,
        }, DiagnosticSinks.None);
        Assert.Equal(2, result.Cells.Count);
        Assert.All(result.Cells, c =>
        {
            Assert.InRange(c.MacsRatio!.Value, 2, 6); // half of most groups' channels: about 4x fewer MACs
            Assert.True(c.Speedup > 0);
            Assert.True(c.CompressionRatio > 2);
        });
        Assert.True(File.Exists(result.SpeedupPlot));
        Assert.Empty(Directory.GetFiles(dir.Combine("compare", "cells"), "*.tmp"));
    }

    [Fact]
    public void Run_ChannelGranularityWithIterativeSchedule_StepsToTheRatio()
    {
        using var dir = new TempDirectory();
        string weights = Seeded(dir);
        var sink = new CollectingSink();
        var result = CompareJob.Run(Options(dir, weights) with
        {
            Granularity = "channel",
            Criteria = ["magnitude"],
            Scopes = [PruneScope.Layer],
            Fractions = [0.5],
            Schedule = new PruneSchedule { Steps = 2, EpochsBetween = 0 },
            LatencyRuns = 2,
        }, sink);
        Assert.Equal(2, sink.ProgressLines.Count(l => l.StartsWith("prune: channel step ", StringComparison.Ordinal)));
        Assert.InRange(Assert.Single(result.Cells).MacsRatio!.Value, 2, 6);
    }

    [Fact]
    public void Run_Scratch_TrainsTheMaskFromAFreshStartAndDrawsTheHistograms()
    {
        using var dir = new TempDirectory();
        string weights = Seeded(dir);
        var result = CompareJob.Run(Options(dir, weights) with
        {
            Criteria = ["magnitude"],
            Scopes = [PruneScope.Global],
            Fractions = [0.8],
            ScratchEpochs = 1,
        }, DiagnosticSinks.None);
        var scratch = Assert.Single(result.Cells).Scratch!;
        Assert.Equal(1, scratch.Epochs);
        Assert.InRange(scratch.Accuracy, 0, 100);
        Assert.Equal(scratch.Edges.Count - 1, scratch.FineTuned.Count);
        // Both models keep the same mask: the same number of nonzero weights (up to weights that trained to exactly 0).
        long tuned = scratch.FineTuned.Sum(), fresh = scratch.FromScratch.Sum();
        Assert.InRange(fresh, tuned - 5, tuned + 5);
        Assert.True(File.Exists(Path.Combine(dir.Combine("compare"), "compare-scratch.png")));
    }

    [Fact]
    public void Run_OutputFolderUnderAFile_IsCmp0004BeforeAnyWork()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.Combine("blocker"), "a file");
        var sink = new CollectingSink();
        var e = Assert.Throws<CompressException>(() => CompareJob.Run(Options(dir, "/nonexistent.safetensors") with
        {
            OutputDirectory = dir.Combine("blocker", "out"),
        }, sink));
        Assert.Equal(DiagnosticCode.OutputWriteFailed, e.Code);
        Assert.Empty(sink.ProgressLines); // nothing loaded or evaluated
    }

    [Fact]
    public void Run_UnknownCriterion_ThrowsCmp0001()
    {
        using var dir = new TempDirectory();
        var e = Assert.Throws<CompressException>(() => CompareJob.Run(Options(dir, "unused") with { Criteria = ["taylor2"] }, DiagnosticSinks.None));
        Assert.Equal(DiagnosticCode.InvalidOption, e.Code);
        Assert.Contains("taylor2", e.Message, StringComparison.Ordinal);
    }
}

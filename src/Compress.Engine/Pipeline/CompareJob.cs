using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Compress.Engine.Analysis;
using Compress.Engine.Diagnostics;
using Compress.Engine.Models;
using Compress.Engine.Pruning;
using Compress.Engine.Pruning.Unstructured;
using Compress.Engine.Reporting;
using Compress.Engine.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Compress.Engine.Pipeline;

/// <summary>
/// <c>compress compare</c>, ShrinkBench's experiment: the same baseline pruned by every criterion x scope x fraction
/// (unstructured, on the chosen schedule), each copy fine-tuned with its mask and evaluated; a JSON result and a plot
/// of accuracy against compression ratio, one line per method, the baseline marked. Every finished cell is cached in
/// the output folder under a hash of everything it depends on, so an interrupted grid resumes where it stopped.
/// </summary>
public static class CompareJob
{
    /// <summary>Options of <see cref="Run"/>.</summary>
    public sealed record Options
    {
        public ModelOptions Model { get; init; } = new();
        /// <summary>Weights of the baseline (required for a built-in architecture; an ONNX model brings its own).</summary>
        public string? Weights { get; init; }
        public DataOptions Data { get; init; } = new();
        public RunOptions Run { get; init; } = new();
        /// <summary>Criterion names (<see cref="PruningNames.Criteria"/>). Default magnitude, gradient and random.</summary>
        public IReadOnlyList<string> Criteria { get; init; } = ["magnitude", "gradient", "random"];
        /// <summary>Scopes. Default global and layer.</summary>
        public IReadOnlyList<PruneScope> Scopes { get; init; } = [PruneScope.Global, PruneScope.Layer];
        /// <summary>Fractions of the weights in scope to remove. Default 0.5, 0.75, 0.9, 0.95.</summary>
        public IReadOnlyList<double> Fractions { get; init; } = [0.5, 0.75, 0.9, 0.95];
        /// <summary>Schedule of every cell. Default one-shot.</summary>
        public PruneSchedule Schedule { get; init; } = PruneSchedule.OneShot;
        /// <summary>Fine-tuning of every cell after its last step. Default the paper's (1 epoch, SGD lr 0.001).</summary>
        public TrainingOptions FineTune { get; init; } = TrainingOptions.PaperFineTune;
        /// <summary>Also prune the classifier. Default false.</summary>
        public bool IncludeClassifier { get; init; }
        /// <summary>Training images for the gradient criterion. Default 128.</summary>
        public int GradientImages { get; init; } = Pruning.Importance.GradientCollector.DefaultImages;
        /// <summary>
        /// <c>unstructured</c> (default: masks over the conv and linear weights) or <c>channel</c> (whole channels removed;
        /// criteria are channel rankings, magnitude meaning L2; scope global ranks all groups together; every cell is
        /// also timed in ONNX Runtime against the unpruned model).
        /// </summary>
        public string Granularity { get; init; } = "unstructured";
        /// <summary>
        /// Also train every cell's mask or pruned architecture from a fresh (seeded) initialisation for this many epochs
        /// with <see cref="TrainingOptions.CifarBaseline"/>'s recipe, and compare accuracy and weight histograms with the
        /// fine-tuned model. Default null (off).
        /// </summary>
        public int? ScratchEpochs { get; init; }
        /// <summary>Channel granularity: timed ONNX Runtime runs per model and cell. Default 50.</summary>
        public int LatencyRuns { get; init; } = 50;
        /// <summary>Folder of the result (<c>compare.json</c>, <c>compare.png</c>) and the cell cache (<c>cells/</c>).</summary>
        public required string OutputDirectory { get; init; }
    }

    /// <summary>Runs the grid (cached cells are read back, not recomputed).</summary>
    /// <exception cref="CompressException">CMP0001 for an empty grid, an unknown criterion or a fraction outside [0, 1];
    /// the loading and training errors of the other jobs.</exception>
    public static CompareResult Run(Options options, IDiagnosticSink sink, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(sink);
        Validate(options);
        // The output folder first: a folder that cannot be made fails before minutes of work.
        string cells = Path.Combine(options.OutputDirectory, "cells");
        AtomicFile.CreateDirectory(cells, "comparison output");
        using var run = PreparedRun.Start(options.Model, options.Weights, options.Data, options.Run, sink);
        var (model, device, splits, normalization) = (run.Model, run.Device, run.Data, run.Normalization);
        int evalBatch = options.FineTune.EvaluationBatchSize;
        var baseline = Evaluator.Evaluate(model, splits.Test, normalization, device, evalBatch, sink, "evaluate (baseline)", cancellationToken);
        long parameters = model.ParameterCount();

        bool channel = options.Granularity == "channel";
        string? denseOnnx = null;
        if (channel)
        {
            model.eval();
            denseOnnx = Path.Combine(cells, "unpruned." + Guid.NewGuid().ToString("N") + ".onnx.tmp");
            Export.OnnxExporter.Write(Export.OnnxExporter.Export(model, new Export.OnnxExportOptions { FoldBatchNorm = true }), denseOnnx);
        }
        string common = CommonKey(options, normalization);
        var saved = model.OrderedStateDict().Select(s => (s.Value, Copy: s.Value.detach().clone())).ToList();
        var grid = (from c in options.Criteria from s in options.Scopes from f in options.Fractions select (c, s, f)).ToList();
        var result = new List<CompareCell>();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        int computed = 0;
        try
        {
            for (int i = 0; i < grid.Count; i++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var (criterion, scope, fraction) = grid[i];
                string scopeName = scope == PruneScope.Global ? "global" : "layer";
                string key = Hash(common + "|" + criterion + "|" + scopeName + "|" + fraction.ToString("R", CultureInfo.InvariantCulture));
                string file = Path.Combine(cells, key + ".json");
                if (TryRead(file) is { } cached)
                {
                    result.Add(cached with { Cached = true });
                    sink.Progress(string.Create(CultureInfo.InvariantCulture,
                        $"compare: cell {i + 1}/{grid.Count} {criterion} {scopeName} {fraction:0.###}: cached, {cached.AccuracyFineTuned:F2}% at {cached.CompressionRatio:F2}x"));
                    continue;
                }
                var started = System.Diagnostics.Stopwatch.StartNew();
                Restore(saved);
                var cell = channel
                    ? RunChannelCell(model, criterion, scope, scopeName, fraction, options, run, evalBatch, denseOnnx!, sink, cancellationToken)
                    : RunCell(model, criterion, scope, scopeName, fraction, options, run, evalBatch, sink, cancellationToken);
                cell = cell with { Seconds = started.Elapsed.TotalSeconds };
                JsonOutput.WriteFile(file, cell);
                result.Add(cell);
                computed++;
                int left = grid.Count - i - 1;
                double eta = clock.Elapsed.TotalSeconds / computed * left;
                sink.Progress(string.Create(CultureInfo.InvariantCulture,
                    $"compare: cell {i + 1}/{grid.Count} {criterion} {scopeName} {fraction:0.###}: {cell.AccuracyFineTuned:F2}% at {cell.CompressionRatio:F2}x ({cell.Seconds:F1} s; about {eta:F0} s left)"));
            }
        }
        finally
        {
            Restore(saved);
            foreach (var (_, copy) in saved) copy.Dispose();
            if (denseOnnx is not null) File.Delete(denseOnnx);
        }

        string json = Path.Combine(options.OutputDirectory, "compare.json");
        string plot = Path.Combine(options.OutputDirectory, "compare.png");
        string? speedupPlot = channel ? Path.Combine(options.OutputDirectory, "compare-speedup.png") : null;
        var compare = new CompareResult(options.Model.Architecture, baseline.Accuracy, parameters, result, json, plot, options.Granularity, speedupPlot);
        JsonOutput.WriteFile(json, compare);
        ComparePlot.WritePng(compare, plot, sink: sink);
        if (speedupPlot is not null) ComparePlot.WritePng(compare, speedupPlot, sink: sink, bySpeedup: true);
        if (options.ScratchEpochs is not null)
            ComparePlot.WriteScratchPng(compare, Path.Combine(options.OutputDirectory, "compare-scratch.png"), sink);
        return compare;
    }

    private static CompareCell RunCell(ClassifierModel model, string criterion, PruneScope scope, string scopeName, double fraction,
        Options options, PreparedRun run, int evalBatch, IDiagnosticSink sink, CancellationToken cancellationToken)
    {
        var settings = new UnstructuredPruningOptions
        {
            Criterion = PruningNames.Criterion(criterion),
            Scope = scope,
            IncludeClassifier = options.IncludeClassifier,
            GradientImages = options.GradientImages,
        };
        using var mask = UnstructuredRun.Prune(model, fraction, settings, options.Schedule, options.FineTune, options.Run.Seed,
            run.Data, run.Normalization, run.Device, sink, cancellationToken);
        string what = string.Create(CultureInfo.InvariantCulture, $"{criterion} {scopeName} {fraction:0.###}");
        var pruned = Evaluator.Evaluate(model, run.Data.Test, run.Normalization, run.Device, evalBatch, sink, $"evaluate ({what}, pruned)", cancellationToken);
        if (options.FineTune.Epochs > 0)
            new Trainer(model, run.Device, sink).Train(run.Data.Train, run.Normalization, options.FineTune with { Seed = options.Run.Seed },
                mask, $"fine-tune ({what})", cancellationToken);
        var tuned = Evaluator.Evaluate(model, run.Data.Test, run.Normalization, run.Device, evalBatch, sink, $"evaluate ({what}, fine-tuned)", cancellationToken);
        var stats = ModelStatistics.Measure(model);
        long nonzero = (long)Math.Round(stats.Parameters * (1 - stats.Sparsity));
        var scratch = options.ScratchEpochs is int epochs ? Scratch(model, mask, epochs, options, run, evalBatch, what, sink, cancellationToken) : null;
        return new CompareCell(criterion, scopeName, fraction, nonzero > 0 ? (double)stats.Parameters / nonzero : double.PositiveInfinity,
            nonzero, pruned.Accuracy, tuned.Accuracy, 0, false, Scratch: scratch);
    }

    /// <summary>A channel cell: channels removed by the criterion as ranking (magnitude is L2) in the scope (global ranks
    /// all groups together), fine-tuned, evaluated, and timed in ONNX Runtime against the unpruned model.</summary>
    private static CompareCell RunChannelCell(ClassifierModel model, string criterion, PruneScope scope, string scopeName, double fraction,
        Options options, PreparedRun run, int evalBatch, string denseOnnx, IDiagnosticSink sink, CancellationToken cancellationToken)
    {
        var ranking = Pruning.Channels.ChannelRankingNames.Parse(criterion == "magnitude" ? "l2" : criterion)!.Value;
        var channelOptions = new Pruning.Channels.ChannelPruningOptions
        {
            Ratio = Math.Min(fraction, 0.999),
            Ranking = ranking,
            GlobalRanking = scope == PruneScope.Global,
            Seed = options.Run.Seed,
        };
        var pruning = ChannelRun.Prune(model, channelOptions, options.Schedule, options.FineTune, options.Run.Seed, options.GradientImages,
            run.Data, run.Normalization, run.Device, sink, cancellationToken);
        using var result = pruning;
        var pruned = result.Model; // on the baseline's device already
        string what = string.Create(CultureInfo.InvariantCulture, $"{criterion} {scopeName} {fraction:0.###}");
        var afterPrune = Evaluator.Evaluate(pruned, run.Data.Test, run.Normalization, run.Device, evalBatch, sink, $"evaluate ({what}, pruned)", cancellationToken);
        if (options.FineTune.Epochs > 0)
            new Trainer(pruned, run.Device, sink).Train(run.Data.Train, run.Normalization, options.FineTune with { Seed = options.Run.Seed },
                null, $"fine-tune ({what})", cancellationToken);
        var tuned = Evaluator.Evaluate(pruned, run.Data.Test, run.Normalization, run.Device, evalBatch, sink, $"evaluate ({what}, fine-tuned)", cancellationToken);
        long macsBefore = Benchmark.ModelProfiler.Profile(model).Macs, macsAfter = Benchmark.ModelProfiler.Profile(pruned).Macs;

        pruned.eval();
        string prunedOnnx = denseOnnx[..^".onnx.tmp".Length] + ".pruned.onnx.tmp";
        try
        {
            Export.OnnxExporter.Write(Export.OnnxExporter.Export(pruned, new Export.OnnxExportOptions { FoldBatchNorm = true }), prunedOnnx);
            var timing = Benchmark.OrtBenchmark.TimeAgainst(prunedOnnx, denseOnnx, options.LatencyRuns, null, DiagnosticSinks.None, cancellationToken);
            long after = pruned.ParameterCount();
            var scratch = options.ScratchEpochs is int epochs ? Scratch(pruned, null, epochs, options, run, evalBatch, what, sink, cancellationToken) : null;
            return new CompareCell(criterion, scopeName, fraction, (double)model.ParameterCount() / after, after, afterPrune.Accuracy,
                tuned.Accuracy, 0, false, (double)macsBefore / macsAfter, timing.Ratio!.Speedup, scratch);
        }
        finally
        {
            File.Delete(prunedOnnx);
        }
    }

    /// <summary>
    /// The same architecture (and mask) from a fresh seeded initialisation, trained <paramref name="epochs"/> epochs with
    /// the baseline recipe; its accuracy and the weight histograms of both models (nonzero conv and linear weights).
    /// </summary>
    private static ScratchComparison Scratch(ClassifierModel tuned, PruningMask? mask, int epochs, Options options, PreparedRun run,
        int evalBatch, string what, IDiagnosticSink sink, CancellationToken cancellationToken)
    {
        manual_seed(options.Run.Seed);
        using var fresh = tuned.WithGraph(tuned.DescribeGraph());
        fresh.to(run.Device);
        mask?.Apply(fresh);
        new Trainer(fresh, run.Device, sink).Train(run.Data.Train, run.Normalization,
            TrainingOptions.CifarBaseline with { Epochs = epochs, Seed = options.Run.Seed, BatchSize = options.FineTune.BatchSize }, mask,
            $"train from scratch ({what})", cancellationToken);
        var accuracy = Evaluator.Evaluate(fresh, run.Data.Test, run.Normalization, run.Device, evalBatch, sink, $"evaluate ({what}, from scratch)", cancellationToken);
        double[] a = NonzeroWeights(tuned), b = NonzeroWeights(fresh);
        double limit = Math.Max(1e-12, a.Concat(b).Select(Math.Abs).DefaultIfEmpty(1).Max());
        const int Bins = 60;
        var edges = Enumerable.Range(0, Bins + 1).Select(i => -limit + (2 * limit * i / Bins)).ToArray();
        return new ScratchComparison(epochs, accuracy.Accuracy, edges, Histogram(a, limit, Bins), Histogram(b, limit, Bins));
    }

    private static double[] NonzeroWeights(ClassifierModel model)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        return [.. model.named_parameters().Where(p => p.parameter.dim() > 1)
            .SelectMany(p => p.parameter.detach().cpu().to(ScalarType.Float64).flatten().data<double>().ToArray())
            .Where(v => v != 0)];
    }

    private static long[] Histogram(double[] values, double limit, int bins)
    {
        var counts = new long[bins];
        foreach (double v in values) counts[Math.Clamp((int)((v + limit) / (2 * limit) * bins), 0, bins - 1)]++;
        return counts;
    }

    private static void Restore(List<(Tensor Value, Tensor Copy)> saved)
    {
        using var noGrad = no_grad();
        foreach (var (value, copy) in saved) value.copy_(copy);
    }

    /// <summary>What every cell depends on besides its own choices: model and weights (by content), data, schedule,
    /// fine-tuning, seed, device kind and scope options.</summary>
    private static string CommonKey(Options options, Data.Normalization normalization)
    {
        var c = CultureInfo.InvariantCulture;
        var parts = new List<string>
        {
            "compare/1", options.Granularity, options.Model.Architecture, options.Model.WidthMultiplier.ToString("R", c), options.Model.Classes.ToString(c),
            FileHash(options.Weights) ?? FileHash(options.Model.Architecture) ?? "-",
            options.Data.Source, JsonSerializer.Serialize(options.Data.Synthetic, JsonOutput.Options),
            JsonSerializer.Serialize(normalization, JsonOutput.Options),
            JsonSerializer.Serialize(options.Schedule, JsonOutput.Options), JsonSerializer.Serialize(options.FineTune, JsonOutput.Options),
            options.Run.Seed.ToString(c), options.Run.Device.ToString(), options.IncludeClassifier ? "classifier" : "-",
            options.GradientImages.ToString(c), Export.OnnxExporter.ProducerVersion, options.ScratchEpochs?.ToString(c) ?? "no-scratch",
        };
        return string.Join("|", parts);
    }

    private static string? FileHash(string? path)
    {
        if (path is null || !File.Exists(path)) return null;
        using var stream = File.OpenRead(path);
        return Convert.ToHexString(SHA256.HashData(stream));
    }

    private static string Hash(string text) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text))).ToLowerInvariant()[..32];

    private static CompareCell? TryRead(string file)
    {
        if (!File.Exists(file)) return null;
        try
        {
            byte[] bytes = File.ReadAllBytes(file);
            return Utf8Input.FirstInvalid(bytes) is null ? JsonSerializer.Deserialize<CompareCell>(bytes, JsonOutput.Options) : null;
        }
        catch (JsonException)
        {
            return null; // a damaged cache entry is computed again
        }
    }

    private static void Validate(Options options)
    {
        if (options.Criteria.Count == 0 || options.Scopes.Count == 0 || options.Fractions.Count == 0)
            throw new CompressException(DiagnosticCode.InvalidOption, "The comparison grid is empty: give at least one criterion, scope and fraction.");
        foreach (string criterion in options.Criteria)
            if (!PruningNames.Criteria.Contains(criterion, StringComparer.OrdinalIgnoreCase))
                throw new CompressException(DiagnosticCode.InvalidOption,
                    $"Unknown criterion '{criterion}'; known: {string.Join(", ", PruningNames.Criteria)}.");
        foreach (double fraction in options.Fractions) PruneRateParser.Validate(fraction);
        options.Schedule.Validate();
        options.FineTune.Validate();
        if (options.Granularity is not ("unstructured" or "channel"))
            throw new CompressException(DiagnosticCode.InvalidOption, $"Unknown granularity '{options.Granularity}'; use unstructured or channel.");
        if (options.Granularity == "channel" && options.Criteria.Any(c => Pruning.Channels.ChannelRankingNames.Parse(c == "magnitude" ? "l2" : c) is null))
            throw new CompressException(DiagnosticCode.InvalidOption, "Channel pruning takes the criteria magnitude, gradient and random.");
        if (options.ScratchEpochs is < 1)
            throw new CompressException(DiagnosticCode.InvalidOption, "--scratch-epochs must be at least 1.");
        if (options.LatencyRuns < 1)
            throw new CompressException(DiagnosticCode.InvalidOption, "--latency-runs must be at least 1.");
    }
}

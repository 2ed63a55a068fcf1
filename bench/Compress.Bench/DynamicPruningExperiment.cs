using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Compress.Engine.Analysis;
using Compress.Engine.Benchmark;
using Compress.Engine.Data;
using Compress.Engine.Diagnostics;
using Compress.Engine.Export;
using Compress.Engine.Models;
using Compress.Engine.Pipeline;
using Compress.Engine.Pruning.Dynamic;
using Compress.Engine.Pruning.Unstructured;
using Compress.Engine.Training;
using static TorchSharp.torch;

namespace Compress.Bench;

/// <summary>
/// Issue 13's experiment: ResNet-56 (option-B shortcuts) trained densely, with dynamic filter pruning at 60% (without
/// the decorrelation regulariser, with it at the source project's alpha 0.7 and at smaller alphas, <c>--alphas</c>), with
/// dynamic unstructured pruning at 90%, and one-shot magnitude
/// pruning of the dense model at the same sparsities fine-tuned for the same epochs with the same recipe. Prints a
/// table (accuracy, sparsity, parameters, MACs, ONNX Runtime batch-1 latency of the compacted models timed alternately
/// against the dense one), writes it as JSON and draws accuracy against epoch. Every run is cached in the output
/// folder, so an interrupted experiment resumes.
/// </summary>
internal static class DynamicPruningExperiment
{
    private sealed record RunResult(string Name, string Kind, double Accuracy, double? FilterSparsity, double WeightSparsity,
        double ParameterSparsity, long Parameters, long NonZeroParameters, long Macs, double MeanAbsoluteCorrelation,
        long MaskUpdates, long Revived, double Seconds, IReadOnlyList<double> EpochAccuracy)
    {
        public double? LatencyMs { get; set; }
        public double? DenseLatencyMs { get; set; }
    }

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    public static int Run(string[] args)
    {
        var c = CultureInfo.InvariantCulture;
        int trainCount = BenchOptions.Integer(args, "--train", 8000);
        int testCount = BenchOptions.Integer(args, "--test", 2000);
        int epochs = BenchOptions.Integer(args, "--epochs", 8);
        double width = BenchOptions.Number(args, "--width", 0.5);
        int seed = BenchOptions.Integer(args, "--seed", 0);
        int runs = BenchOptions.Integer(args, "--runs", 300);
        int ortThreads = BenchOptions.Integer(args, "--ort-threads", 1);
        double filterTarget = BenchOptions.Number(args, "--filter-target", 0.6);
        double unstructuredTarget = BenchOptions.Number(args, "--unstructured-target", 0.9);
        double alpha = BenchOptions.Number(args, "--alpha", 0.7);
        double learningRate = BenchOptions.Number(args, "--lr", 0.05);
        string? dataFolder = BenchOptions.Text(args, "--data");
        var ranking = Compress.Engine.Pruning.PruningNames.FilterRanking(BenchOptions.Text(args, "--filter-ranking")) ?? FilterRanking.Normalized;
        string output = Path.GetFullPath(BenchOptions.Text(args, "--output-dir") ?? Path.Combine("bench-out", "dpf"));
        string? plotPath = BenchOptions.Text(args, "--plot");
        Directory.CreateDirectory(output);

        var sink = new TextWriterSink(Console.Error);
        var data = (dataFolder is null
            ? new DataOptions { Source = "synthetic", Synthetic = new SyntheticDataOptions { TrainCount = trainCount, TestCount = testCount } }
            : new DataOptions { Source = dataFolder }).Load(sink);
        var normalization = Normalization.FromDataset(data.Train);
        var modelOptions = new ModelOptions { Architecture = "resnet56-cifar", WidthMultiplier = width };
        var recipe = TrainingOptions.CifarBaseline with
        {
            Epochs = epochs,
            Seed = seed,
            Sgd = TrainingOptions.CifarBaseline.Sgd with { LearningRate = learningRate },
        };
        string dataName = dataFolder is null ? string.Create(c, $"synthetic {data.Train.Count} train / {data.Test.Count} test") : dataFolder;
        Console.WriteLine(string.Create(c,
            $"ResNet-56 (option B) width {width}, {dataName}, filter ranking {Compress.Engine.Pruning.PruningNames.NameOf(ranking)}, {epochs} epochs of SGD lr {recipe.Sgd.LearningRate} (Nesterov, momentum {recipe.Sgd.Momentum}, weight decay {recipe.Sgd.WeightDecay}, {recipe.WarmupSteps} warm-up steps, cosine), batch {recipe.BatchSize}, seed {seed}; DPF mask every 16 steps, ramp to the target at 0.75"));

        string densePath = Path.Combine(output, "dense.safetensors");
        var only = BenchOptions.Text(args, "--only")?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var plan = new List<(string Name, Func<RunResult> Run)>
        {
            ("dense", () => Dense(modelOptions, recipe, data, normalization, densePath, sink)),
            ("dpf-filter", () => Dynamic("dpf-filter", modelOptions, new DynamicPruningOptions { Variant = DynamicPruningVariant.Filter, Target = filterTarget, FilterRanking = ranking }, recipe, data, normalization, output, sink)),
            ("dpf-unstructured", () => Dynamic("dpf-unstructured", modelOptions, new DynamicPruningOptions { Variant = DynamicPruningVariant.Unstructured, Target = unstructuredTarget }, recipe, data, normalization, output, sink)),
            ("oneshot-filter", () => OneShot("oneshot-filter", modelOptions, densePath, new DynamicPruningOptions { Variant = DynamicPruningVariant.Filter, Target = filterTarget, FilterRanking = ranking }, recipe, data, normalization, output, sink)),
            ("oneshot-unstructured", () => OneShot("oneshot-unstructured", modelOptions, densePath, new DynamicPruningOptions { Variant = DynamicPruningVariant.Unstructured, Target = unstructuredTarget }, recipe, data, normalization, output, sink)),
        };
        // The regulariser at the source project's alpha (--alpha, 0.7) and at smaller ones (--alphas), after DPF filter.
        var alphas = (BenchOptions.Text(args, "--alphas") ?? "0.7,0.1,0.01").Split(',', StringSplitOptions.RemoveEmptyEntries)
            .Select(a => double.Parse(a, c)).ToList();
        plan.InsertRange(2, alphas.Select(a =>
        {
            string name = a == alpha ? "dpf-filter-decorrelation" : "dpf-filter-decorrelation-" + a.ToString(c);
            return (name, (Func<RunResult>)(() => Dynamic(name, modelOptions, new DynamicPruningOptions { Variant = DynamicPruningVariant.Filter, Target = filterTarget, FilterRanking = ranking },
                recipe with { Decorrelation = a }, data, normalization, output, sink)));
        }));
        if (only is not null && only.Except(plan.Select(p => p.Name)).FirstOrDefault() is { } unknown)
        {
            Console.Error.WriteLine($"--only: unknown run '{unknown}'; runs: {string.Join(", ", plan.Select(p => p.Name))}");
            return 2;
        }
        // --only runs a subset (e.g. the two filter runs at other seeds): no latency, no plot.
        var results = plan.Where(p => only is null || only.Contains(p.Name)).Select(p => Cached(output, p.Name, p.Run)).ToList();

        // Latency at the end, alternating each model with the dense one (same process, same moment).
        string denseOnnx = Path.Combine(output, "dense.onnx");
        foreach (var result in results.Where(r => r.Name != "dense" && only is null))
        {
            var timing = OrtBenchmark.TimeAgainst(Path.Combine(output, result.Name + ".onnx"), denseOnnx, runs,
                new OrtSessionSettings { Threads = ortThreads }, DiagnosticSinks.None);
            result.LatencyMs = timing.LatencyMs.P50;
            result.DenseLatencyMs = timing.Baseline!.LatencyMs.P50;
        }

        Console.WriteLine();
        Console.WriteLine(string.Create(c, $"| run | test accuracy | filters masked | conv+linear weights zero | parameters (nonzero / dense) | MACs | ORT p50 ms vs dense ({ortThreads} thread) | mean filter abs r | mask updates (revived) | train s |"));
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        long denseParameters, denseMacs;
        using (var fresh = ModelFactory.Create(modelOptions)) // the dense shapes, without training a dense model for a subset
        {
            fresh.eval();
            denseParameters = fresh.ParameterCount();
            denseMacs = OnnxGraphStats.CountMacs(OnnxExporter.Export(fresh, new OnnxExportOptions { FoldBatchNorm = true })) ?? 0;
        }
        foreach (var r in results)
        {
            string filters = r.FilterSparsity is double f ? string.Create(c, $"{100 * f:F1}%") : "-";
            string latency = r.LatencyMs is double l ? string.Create(c, $"{l:F3} vs {r.DenseLatencyMs:F3} ({r.DenseLatencyMs / l:F2}x)") : "-";
            string updates = r.MaskUpdates > 0 ? string.Create(c, $"{r.MaskUpdates} ({r.Revived:N0})") : "-";
            Console.WriteLine(string.Create(c,
                $"| {r.Name} | {r.Accuracy:F2}% | {filters} | {100 * r.WeightSparsity:F1}% | {r.NonZeroParameters:N0} / {denseParameters:N0} ({100 * r.ParameterSparsity:F1}% fewer) | {r.Macs:N0} ({(double)denseMacs / r.Macs:F2}x fewer) | {latency} | {r.MeanAbsoluteCorrelation:F4} | {updates} | {r.Seconds:F0} |"));
        }
        File.WriteAllText(Path.Combine(output, "results.json"), JsonSerializer.Serialize(results, Json));
        if (plotPath is not null && only is null)
        {
            EpochAccuracyPlot.WritePng([.. results.Select(r => new EpochAccuracyPlot.Line(Label(r.Name, alpha), r.EpochAccuracy, r.Kind == "one-shot"))],
                plotPath, string.Create(c, $"ResNet-56 (width {width}) on {dataName}: test accuracy per epoch"), sink);
            Console.WriteLine($"plot: {plotPath}");
        }
        return 0;
    }

    private static string Label(string name, double alpha) => name switch
    {
        "dense" => "dense",
        "dpf-filter" => "DPF filter",
        "dpf-filter-decorrelation" => string.Create(CultureInfo.InvariantCulture, $"DPF filter + decorrelation {alpha}"),
        _ when name.StartsWith("dpf-filter-decorrelation-", StringComparison.Ordinal) => "DPF filter + decorrelation " + name["dpf-filter-decorrelation-".Length..],
        "dpf-unstructured" => "DPF unstructured",
        "oneshot-filter" => "one-shot filter, fine-tuned",
        _ => "one-shot unstructured, fine-tuned",
    };

    private static RunResult Cached(string folder, string name, Func<RunResult> run)
    {
        string path = Path.Combine(folder, name + ".json");
        if (File.Exists(path) && File.Exists(Path.Combine(folder, name + ".onnx")))
        {
            Console.Error.WriteLine($"{name}: cached in {path}");
            return JsonSerializer.Deserialize<RunResult>(File.ReadAllText(path))!;
        }
        var result = run();
        File.WriteAllText(path, JsonSerializer.Serialize(result, Json));
        return result;
    }

    private static RunResult Dense(ModelOptions options, TrainingOptions recipe, DatasetSplits data, Normalization normalization,
        string weightsPath, IDiagnosticSink sink)
    {
        var clock = Stopwatch.StartNew();
        manual_seed(recipe.Seed);
        using var model = ModelFactory.Create(options);
        var accuracy = new List<double>();
        new Trainer(model, CPU, sink).Train(data.Train, normalization, recipe, null, "dense",
            new EpochCallbackHook(e => accuracy.Add(Evaluate(model, data, normalization, sink, $"dense epoch {e}"))));
        double seconds = clock.Elapsed.TotalSeconds;
        Checkpoint.SaveSafetensors(model, weightsPath);
        return Measure("dense", "dense", model, model.ParameterCount(), data, normalization, Path.ChangeExtension(weightsPath, ".onnx"), null, 0, 0, seconds, accuracy, sink);
    }

    private static RunResult Dynamic(string name, ModelOptions options, DynamicPruningOptions pruning, TrainingOptions recipe,
        DatasetSplits data, Normalization normalization, string folder, IDiagnosticSink sink)
    {
        var clock = Stopwatch.StartNew();
        manual_seed(recipe.Seed);
        using var model = ModelFactory.Create(options);
        long denseParameters = model.ParameterCount();
        using var dpf = DynamicPruning.Create(model, pruning);
        dpf.EpochEvaluation = e => Evaluate(model, data, normalization, sink, $"{name} epoch {e}");
        new Trainer(model, CPU, sink).Train(data.Train, normalization, recipe, null, name, dpf);
        double seconds = clock.Elapsed.TotalSeconds;
        var accuracy = dpf.Epochs.Select(e => e.Accuracy!.Value).ToList();
        return Finish(name, "dynamic", model, dpf, denseParameters, data, normalization, folder, dpf.Updates.Count, dpf.Updates.Sum(u => u.Revived), seconds, accuracy, sink);
    }

    private static RunResult OneShot(string name, ModelOptions options, string densePath, DynamicPruningOptions pruning, TrainingOptions recipe,
        DatasetSplits data, Normalization normalization, string folder, IDiagnosticSink sink)
    {
        var clock = Stopwatch.StartNew();
        using var model = ModelFactory.Create(options);
        Checkpoint.Load(model, densePath);
        long denseParameters = model.ParameterCount();
        using var pruner = DynamicPruning.Create(model, pruning);
        pruner.PruneOnce();
        var accuracy = new List<double>();
        if (pruner is FilterDynamicPruning filters)
        {
            double removed = ScopeSparsity(model);
            using var compacted = filters.Compact();
            var small = compacted.Model;
            new Trainer(small, CPU, sink).Train(data.Train, normalization, recipe, null, name,
                new EpochCallbackHook(e => accuracy.Add(Evaluate(small, data, normalization, sink, $"{name} epoch {e}"))));
            return Measure(name, "one-shot", small, denseParameters, data, normalization, Path.Combine(folder, name + ".onnx"),
                filters.Sparsity, 0, 0, clock.Elapsed.TotalSeconds, accuracy, sink, removed);
        }
        using var mask = pruner.TakeMask()!;
        new Trainer(model, CPU, sink).Train(data.Train, normalization, recipe, mask, name,
            new EpochCallbackHook(e => accuracy.Add(Evaluate(model, data, normalization, sink, $"{name} epoch {e}"))));
        return Measure(name, "one-shot", model, denseParameters, data, normalization, Path.Combine(folder, name + ".onnx"),
            null, 0, 0, clock.Elapsed.TotalSeconds, accuracy, sink);
    }

    private static RunResult Finish(string name, string kind, ClassifierModel model, DynamicPruning dpf, long denseParameters, DatasetSplits data,
        Normalization normalization, string folder, long updates, long revived, double seconds, List<double> accuracy, IDiagnosticSink sink)
    {
        string onnx = Path.Combine(folder, name + ".onnx");
        if (dpf is FilterDynamicPruning filters)
        {
            double removed = ScopeSparsity(model); // m (.) W before compaction: the removed filters' weights are its zeros
            using var compacted = filters.Compact();
            return Measure(name, kind, compacted.Model, denseParameters, data, normalization, onnx, filters.Sparsity, updates, revived, seconds, accuracy, sink, removed);
        }
        return Measure(name, kind, model, denseParameters, data, normalization, onnx, null, updates, revived, seconds, accuracy, sink);
    }

    private static RunResult Measure(string name, string kind, ClassifierModel model, long denseParameters, DatasetSplits data,
        Normalization normalization, string onnxPath, double? filterSparsity, long updates, long revived, double seconds,
        IReadOnlyList<double> epochAccuracy, IDiagnosticSink sink, double? weightSparsity = null)
    {
        double accuracy = Evaluate(model, data, normalization, sink, $"{name} final");
        long nonZero = 0;
        using (no_grad())
            foreach (var (_, parameter) in model.named_parameters()) nonZero += parameter.numel() - parameter.eq(0).sum().item<long>();
        model.eval();
        var proto = OnnxExporter.Export(model, new OnnxExportOptions { FoldBatchNorm = true });
        OnnxExporter.Write(proto, onnxPath);
        long macs = OnnxGraphStats.CountMacs(proto) ?? 0;
        double correlation = DecorrelationRegularizer.MeanAbsoluteCorrelation(model);
        return new RunResult(name, kind, accuracy, filterSparsity, weightSparsity ?? ScopeSparsity(model), 1 - ((double)nonZero / denseParameters),
            model.ParameterCount(), nonZero, macs, correlation, updates, revived, seconds, epochAccuracy);
    }

    /// <summary>Fraction of the conv and linear weights (classifier excluded) that are exactly zero.</summary>
    private static double ScopeSparsity(ClassifierModel model)
    {
        var scope = UnstructuredPruner.ScopeOf(model, includeClassifier: false).ToHashSet(StringComparer.Ordinal);
        long total = 0, zeros = 0;
        using var noGrad = no_grad();
        foreach (var (name, parameter) in model.named_parameters().Where(p => scope.Contains(p.name)))
        {
            total += parameter.numel();
            zeros += parameter.eq(0).sum().item<long>();
        }
        return total == 0 ? 0 : (double)zeros / total;
    }

    private static double Evaluate(ClassifierModel model, DatasetSplits data, Normalization normalization, IDiagnosticSink sink, string phase)
    {
        double accuracy = Evaluator.Evaluate(model, data.Test, normalization, CPU, 256, DiagnosticSinks.None, phase).Accuracy;
        sink.Progress(string.Create(CultureInfo.InvariantCulture, $"{phase}: test accuracy {accuracy:F2}%"));
        return accuracy;
    }
}

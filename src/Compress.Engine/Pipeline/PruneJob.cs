using Compress.Engine.Analysis;
using Compress.Engine.Diagnostics;
using Compress.Engine.Models;
using Compress.Engine.Pruning;
using Compress.Engine.Pruning.Channels;
using Compress.Engine.Pruning.FineGrained;
using Compress.Engine.Training;

namespace Compress.Engine.Pipeline;

/// <summary>
/// What <c>compress prune</c> does, the paper's procedure: evaluate the model, analyse it (curve, knee, K, safe rate),
/// prune once globally by L1 magnitude at the chosen rate, evaluate, fine-tune with the mask held, evaluate, save.
/// The other <see cref="PruneMethod"/>s replace the pruning step: <see cref="PruneMethod.Channel"/> removes whole
/// channels (the fine-tuning then trains the smaller model, no mask), <see cref="PruneMethod.Layerwise"/> prunes each
/// layer at its own sparsity (given, or proposed from a sensitivity scan) and fine-tunes with that mask.
/// </summary>
public static class PruneJob
{
    /// <summary>Options of <see cref="Run"/>.</summary>
    public sealed record Options
    {
        public ModelOptions Model { get; init; } = new();
        public required string Weights { get; init; }
        public DataOptions Data { get; init; } = new();
        /// <summary>A number in [0, 1], <c>knee</c> or <c>safe</c> (default).</summary>
        public string Rate { get; init; } = "safe";
        /// <summary>Fine-tuning recipe; defaults to the paper's (SGD lr 0.001, momentum 0.9, batch 256, 1 epoch).</summary>
        public TrainingOptions FineTune { get; init; } = TrainingOptions.PaperFineTune;
        public RunOptions Run { get; init; } = new();
        public bool Strict { get; init; }
        /// <summary>Where the pruned, fine-tuned weights go (safetensors); nothing is written when null.</summary>
        public string? OutputPath { get; init; }
        /// <summary>
        /// Where the verified ONNX artifact goes (BatchNorm folded, dead channels compacted, parity-checked, metadata on
        /// how it was pruned); nothing is exported when null.
        /// </summary>
        public string? OnnxOutputPath { get; init; }
        /// <summary>Optional PNG plot of the cosine curve.</summary>
        public string? PlotPath { get; init; }
        /// <summary>How to prune (default the paper's global magnitude pruning at <see cref="Rate"/>).</summary>
        public PruneMethod Method { get; init; } = PruneMethod.Global;
        /// <summary>Options of <see cref="PruneMethod.Channel"/> (default: uniform ratio 0.3, L2 ranking).</summary>
        public ChannelPruningOptions Channel { get; init; } = new();
        /// <summary>
        /// Channel method: apply this plan (e.g. read back with <see cref="ChannelPlanFile.Read"/>) instead of making one
        /// from <see cref="Channel"/>. Default null.
        /// </summary>
        public IReadOnlyList<PrunedChannelGroup>? ChannelPlan { get; init; }
        /// <summary>Channel method: where the plan is written as JSON (<see cref="ChannelPlanFile"/>); nothing when null.</summary>
        public string? ChannelPlanOutputPath { get; init; }
        /// <summary>Unstructured method: apply the mask in this plan file (<see cref="MaskPlanFile"/>) instead of deciding
        /// one. Default null.</summary>
        public string? MaskPlanPath { get; init; }
        /// <summary>Unstructured method: where the mask is written as a plan file; nothing when null.</summary>
        public string? MaskPlanOutputPath { get; init; }
        /// <summary>
        /// Compare the unpruned and the pruned model as ONNX in ONNX Runtime (MACs, parameters, batch-1 latency timed
        /// alternately) and return it as <see cref="PruneResult.Comparison"/>. Default false.
        /// </summary>
        public bool CompareWithUnpruned { get; init; }
        /// <summary>ONNX Runtime session of the comparison (threads). Default: ONNX Runtime's own thread count.</summary>
        public Benchmark.OrtSessionSettings ComparisonSession { get; init; } = new();
        /// <summary>Timed runs per model of the comparison. Default 100.</summary>
        public int ComparisonRuns { get; init; } = 100;
        /// <summary>Options of <see cref="PruneMethod.Unstructured"/> (default: global magnitude, classifier excluded).</summary>
        public Pruning.Unstructured.UnstructuredPruningOptions Unstructured { get; init; } = new();
        /// <summary>Schedule of <see cref="PruneMethod.Unstructured"/> (default one-shot).</summary>
        public PruneSchedule Schedule { get; init; } = PruneSchedule.OneShot;
        /// <summary>Options of <see cref="PruneMethod.Dynamic"/> (variant, mask interval, ramp end); its target is
        /// <see cref="DynamicTarget"/>.</summary>
        public Pruning.Dynamic.DynamicPruningOptions Dynamic { get; init; } = new();
        /// <summary>
        /// <see cref="PruneMethod.Dynamic"/>: the final sparsity (of the weights in scope, or of the prunable filters).
        /// Null: the rate (<see cref="Rate"/>) for the unstructured variant; the filter variant needs one (CMP0709).
        /// </summary>
        public double? DynamicTarget { get; init; }
        /// <summary>Options of <see cref="PruneMethod.Layerwise"/>.</summary>
        public LayerwiseOptions Layerwise { get; init; } = new();
        /// <summary>
        /// Where the unpruned model is exported (BatchNorm folded, not compacted) before pruning, so the
        /// artifact can be compared with it (MACs, latency); nothing is written when null.
        /// </summary>
        public string? DenseOnnxOutputPath { get; init; }
        /// <summary>
        /// Global and layerwise methods: a PNG of each pruned layer's weight histogram before and after pruning (the
        /// pruned zeros left out); layerwise with a scan also writes the scan next to it (<c>.sensitivity.png</c>,
        /// <c>.sensitivity.json</c>). Nothing is drawn when null.
        /// </summary>
        public string? PlotDirectory { get; init; }
        /// <summary>File name prefix of the plots in <see cref="PlotDirectory"/> (default <c>prune</c>).</summary>
        public string PlotName { get; init; } = "prune";
        /// <summary>Write the normalisation into the artifact as Sub and Div nodes, so it takes raw pixels 0 to 255
        /// (the contract in its metadata says so either way). Default false.</summary>
        public bool EmbedPreprocessing { get; init; }
    }

    /// <summary>
    /// Runs the whole procedure. Its output files are one transaction (<see cref="Reporting.OutputTransaction"/>): they
    /// replace the previous ones together at the end, or not at all.
    /// </summary>
    public static PruneResult Run(Options options, IDiagnosticSink sink, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        string?[] outputs =
        [
            options.OutputPath, options.OnnxOutputPath, options.PlotPath, options.ChannelPlanOutputPath, options.MaskPlanOutputPath,
            options.DenseOnnxOutputPath, options.PlotDirectory is null ? null : Path.Combine(options.PlotDirectory, options.PlotName),
        ];
        return Reporting.OutputTransaction.Run(outputs, sink, () => RunInTransaction(options, sink, cancellationToken));
    }

    private static PruneResult RunInTransaction(Options options, IDiagnosticSink sink, CancellationToken cancellationToken)
    {
        var rateSpec = PruneRateParser.Parse(options.Rate);
        options.FineTune.Validate();
        options.Schedule.Validate();
        if (options.Method == PruneMethod.Dynamic)
        {
            if (options.Dynamic.Variant == Pruning.Dynamic.DynamicPruningVariant.Filter && options.DynamicTarget is null)
                throw new CompressException(DiagnosticCode.InvalidDynamicPruningOption,
                    "Invalid dynamic pruning option: the filter variant needs a target sparsity (the fraction of prunable filters masked).",
                    hint: "Give --target-sparsity (spec: targetSparsity), e.g. 0.6.");
            (options.Dynamic with { Target = options.DynamicTarget ?? 0 }).Validate();
        }
        using var run = PreparedRun.Start(options.Model, options.Weights, options.Data, options.Run, sink);
        var (model, device, splits, normalization) = (run.Model, run.Device, run.Data, run.Normalization);
        var import = Models.Onnx.ImportSummary.Of(model);
        int evalBatch = options.FineTune.EvaluationBatchSize;
        var timings = new Dictionary<string, double>();

        var clock = System.Diagnostics.Stopwatch.StartNew();
        var before = Evaluator.Evaluate(model, splits.Test, normalization, device, evalBatch, sink, "evaluate (unpruned)", cancellationToken);
        timings["evaluateUnpruned"] = Lap(clock);
        Onnx.ModelProto? denseOnnx = null;
        if (options.DenseOnnxOutputPath is not null || options.CompareWithUnpruned)
        {
            model.eval();
            // Only measured (MACs, latency), never shipped: written as exported, without the artifact's parity run.
            denseOnnx = Export.OnnxExporter.Export(model, new Export.OnnxExportOptions { FoldBatchNorm = true });
            if (options.DenseOnnxOutputPath is not null) Export.OnnxExporter.Write(denseOnnx, options.DenseOnnxOutputPath);
            timings["exportUnpruned"] = Lap(clock);
        }

        var analysis = PruneAnalyzer.Analyze(model, new AnalysisOptions { Strict = options.Strict }, sink);
        timings["analyze"] = Lap(clock);
        if (options.PlotPath is not null)
            CosineCurvePlot.WritePng(analysis, options.PlotPath, $"{options.Model.Architecture} ({Path.GetFileName(options.Weights)})");

        var (rate, rateSource) = Resolve(rateSpec, analysis);
        PruningMask? mask = null;
        ChannelPruningResult? channels = null;
        IReadOnlyDictionary<string, double>? layerSparsity = null;
        SparsityProposalResult? proposal = null;
        long parametersBefore = model.ParameterCount();
        Pruning.Dynamic.DynamicPruningReport? dynamic = null;
        try
        {
            // One table of methods (PruneSteps); each decides and applies its pruning and says what it did.
            var step = PruneSteps.For(options.Method)(new PruneSteps.Input(options, model, analysis, rate, rateSource, splits,
                normalization, device, evalBatch, sink, timings, clock, cancellationToken));
            (mask, channels, layerSparsity, proposal, rate, rateSource) = (step.Mask, step.Channels, step.LayerSparsity, step.Proposal, step.Rate, step.RateSource);
            dynamic = step.Dynamic;
            if (channels is not null) model = channels.Model;
            timings["prune"] = Lap(clock);

            var afterPrune = Evaluator.Evaluate(model, splits.Test, normalization, device, evalBatch, sink, "evaluate (pruned)", cancellationToken);
            timings["evaluatePruned"] = Lap(clock);

            // A method that pruned while training has fine-tuned already: its model is the fine-tuned one.
            var fineTune = step.FineTune ?? new Trainer(model, device, sink).Train(splits.Train, normalization,
                options.FineTune with { Seed = options.Run.Seed }, mask, "fine-tune", cancellationToken);
            timings["fineTune"] = Lap(clock);

            var afterFineTune = step.FineTune is null
                ? Evaluator.Evaluate(model, splits.Test, normalization, device, evalBatch, sink, "evaluate (fine-tuned)", cancellationToken)
                : afterPrune;
            timings["evaluateFineTuned"] = Lap(clock);

            var stats = ModelStatistics.Measure(model);
            ExportResult? export = null;
            double? accuracyOnnx = null;
            if (options.OnnxOutputPath is not null)
            {
                var c = System.Globalization.CultureInfo.InvariantCulture;
                var metadata = new Dictionary<string, string>
                {
                    ["compress.prune_rate"] = rate.ToString("R", c),
                    ["compress.prune_rate_source"] = rateSource,
                    ["compress.knee_rate"] = analysis.Knee.Rate.ToString("R", c),
                    ["compress.kurtosis_of_kurtoses"] = analysis.KurtosisOfKurtoses.ToString("R", c),
                    ["compress.modifier"] = analysis.Modifier.ToString("R", c),
                    ["compress.sparsity"] = stats.Sparsity.ToString("R", c),
                    ["compress.accuracy_unpruned"] = before.Accuracy.ToString("R", c),
                    ["compress.accuracy_pruned"] = afterPrune.Accuracy.ToString("R", c),
                    ["compress.accuracy_finetuned"] = afterFineTune.Accuracy.ToString("R", c),
                    ["compress.seed"] = options.Run.Seed.ToString(c),
                    ["compress.method"] = Pruning.PruningNames.NameOf(options.Method),
                };
                if (dynamic is not null)
                {
                    metadata["compress.dynamic_prune"] = dynamic.Variant;
                    metadata["compress.dynamic_sparsity"] = dynamic.Sparsity.ToString("R", c);
                }
                if (options.FineTune.Decorrelation > 0)
                    metadata["compress.decorrelation"] = options.FineTune.Decorrelation.ToString("R", c) + " " + Pruning.PruningNames.NameOf(options.FineTune.DecorrelationVariant);
                sink.Progress($"export: compacting and verifying ONNX against TorchSharp, to {options.OnnxOutputPath}");
                model.eval();
                var preprocessing = run.Preprocessing(options.EmbedPreprocessing);
                try
                {
                    var proto = Export.OnnxExporter.Export(model, new Export.OnnxExportOptions
                    {
                        FoldBatchNorm = true,
                        Metadata = ExportJob.StandardMetadata(model, options.Weights, true, metadata),
                        Preprocessing = preprocessing,
                    });
                    export = ExportJob.VerifyAndWrite(model, proto, options.OnnxOutputPath, foldedBatchNorm: true, compact: true);
                }
                catch (CompressException e) when (e.Code == DiagnosticCode.NonFiniteWeights && options.FineTune.Epochs > 0)
                {
                    // The loaded weights were checked finite; out of range now means this run's fine-tuning diverged.
                    throw new CompressException(DiagnosticCode.TrainingDiverged, "Fine-tuning diverged: " + e.Message, e.FilePath,
                        Training.Trainer.DivergenceHint("fine-tune"), e);
                }
                sink.Progress(string.Create(c, $"export: verified (ONNX Runtime matches TorchSharp: max relative difference {export.MaxRelativeDifference:G3}), wrote {export.Output}"));
                timings["export"] = Lap(clock);
                // The artifact itself, not the training copy: its accuracy on the same split, in ONNX Runtime.
                using var onnx = Benchmark.OrtClassifier.Load(export.Output, sink: sink);
                accuracyOnnx = onnx.Accuracy(splits.Test, normalization, evalBatch, cancellationToken);
                sink.Progress(string.Create(c, $"evaluate (onnx): accuracy {accuracyOnnx:F2}% in ONNX Runtime on {splits.Test.Count} images"));
                timings["evaluateOnnx"] = Lap(clock);
            }
            StructureComparison? comparison = null;
            if (options.CompareWithUnpruned)
            {
                model.eval();
                comparison = Compare(denseOnnx!, export?.Output, model, options, sink, cancellationToken);
                timings["compare"] = Lap(clock);
            }
            if (options.OutputPath is not null) Checkpoint.SaveSafetensors(model, options.OutputPath);
            return new PruneResult
            {
                Method = options.Method,
                ParametersBefore = parametersBefore,
                ChannelGroups = channels?.Groups,
                Dynamic = dynamic,
                Comparison = comparison,
                LayerSparsity = layerSparsity,
                Proposal = proposal,
                Sensitivity = step.Sensitivity,
                Model = options.Model.Architecture,
                Rate = rate,
                RateSource = rateSource,
                Analysis = analysis,
                Parameters = stats.Parameters,
                PrunedCount = mask?.PrunedCount ?? (channels!.ParametersBefore - channels.ParametersAfter),
                Sparsity = stats.Sparsity,
                AccuracyBefore = before.Accuracy,
                AccuracyAfterPrune = afterPrune.Accuracy,
                AccuracyAfterFinetune = afterFineTune.Accuracy,
                LossBefore = before.Loss,
                LossAfterPrune = afterPrune.Loss,
                LossAfterFinetune = afterFineTune.Loss,
                FineTune = fineTune,
                Seconds = timings,
                Output = options.OutputPath,
                Export = export,
                AccuracyOnnx = accuracyOnnx,
                Preprocessing = run.Preprocessing(options.EmbedPreprocessing),
                Import = import,
            };
        }
        finally
        {
            mask?.Dispose();
            channels?.Dispose();
        }
    }

    /// <summary>
    /// The unpruned export against the pruned model (the artifact when one was written, else a fresh export), both
    /// timed alternately in ONNX Runtime at batch 1 from a private temporary folder that is always removed.
    /// </summary>
    private static StructureComparison Compare(Onnx.ModelProto dense, string? artifact, ClassifierModel model, Options options,
        IDiagnosticSink sink, CancellationToken cancellationToken)
    {
        string folder = Path.Combine(Path.GetTempPath(), "compress-compare-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        try
        {
            string densePath = Path.Combine(folder, "unpruned.onnx");
            Export.OnnxExporter.Write(dense, densePath);
            string prunedPath = artifact ?? Path.Combine(folder, "pruned.onnx");
            if (artifact is null)
                Export.OnnxExporter.Write(Export.OnnxExporter.Export(model, new Export.OnnxExportOptions { FoldBatchNorm = true }), prunedPath);
            sink.Progress(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"compare: timing the unpruned and the pruned model alternately in ONNX Runtime, batch 1, {options.ComparisonRuns} runs each"));
            var result = Benchmark.OrtBenchmark.TimeAgainst(prunedPath, densePath, options.ComparisonRuns, options.ComparisonSession,
                sink, cancellationToken);
            var before = result.Baseline!;
            return new StructureComparison(before.Macs, result.Macs, before.Parameters, result.Parameters, before.LatencyMs,
                result.LatencyMs, options.ComparisonSession.Threads, options.ComparisonRuns);
        }
        finally
        {
            try
            {
                Directory.Delete(folder, recursive: true);
            }
            catch (IOException)
            {
                // A file still open on some platform: the folder is in the temp directory; nothing of the user's is left.
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
    }

    internal static void DrawHistograms(Options options, ClassifierModel model, PruningMask mask, IDiagnosticSink sink)
    {
        if (options.PlotDirectory is null) return;
        Directory.CreateDirectory(options.PlotDirectory);
        var layers = LayerwiseMagnitudePruner.PrunableParameters(model).Where(mask.Masks.ContainsKey).ToList();
        WeightHistogramPlot.WritePng(model, Path.Combine(options.PlotDirectory, options.PlotName + ".histograms.png"), mask, layers, sink);
    }

    private static (double Rate, string Source) Resolve(PruneRateSpec spec, PruneAnalysis analysis) =>
        (spec.Resolve(analysis), spec.Kind == PruneRateKind.Fixed ? "explicit" : spec.ToString());

    internal static double Lap(System.Diagnostics.Stopwatch clock)
    {
        double s = clock.Elapsed.TotalSeconds;
        clock.Restart();
        return s;
    }
}

using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Compress.Engine.Benchmark;
using Compress.Engine.Data;
using Compress.Engine.Diagnostics;
using Compress.Engine.Export;
using Compress.Engine.Pipeline;
using Compress.Engine.Pruning;
using Compress.Engine.Pruning.Channels;
using Compress.Engine.Reporting;
using Compress.Engine.Runtime;
using Compress.Engine.Training;

namespace Compress.Engine.Spec;

/// <summary>
/// <c>compress run --spec FILE.json</c>, the engine side of the build step: load or train (and cache) the baseline,
/// prune, fine-tune, export a verified compacted ONNX, measure it in ONNX Runtime, then apply the accuracy gate. Only
/// an artifact that passes reaches <c>&lt;outputDirectory&gt;/&lt;name&gt;.onnx</c>; a rejected one is kept as
/// <c>&lt;intermediateDirectory&gt;/&lt;name&gt;.rejected.onnx</c> so it can be inspected, and the report is written
/// either way. The baseline is cached by a hash of everything that determines it, so rebuilds do not retrain.
/// </summary>
public static class SpecJob
{
    /// <summary>The fewest timed ONNX Runtime runs per model for the latency figures (after 10 untimed ones).</summary>
    public const int TimedRuns = 200;

    /// <summary>About how long the alternated latency timing takes (small models get more runs, up to 20 x <see cref="TimedRuns"/>).</summary>
    public const double LatencySeconds = 3;

    /// <summary>Reads <paramref name="specPath"/> (see <see cref="BuildSpecParser.Load"/>) and runs it.</summary>
    public static BuildReport Run(string specPath, IDiagnosticSink sink, CancellationToken cancellationToken = default) =>
        Run(BuildSpecParser.Load(specPath, sink), sink, cancellationToken);

    /// <summary>
    /// Runs <paramref name="spec"/> and returns the report of an accepted artifact; throws CMP0623 (after writing the
    /// report and keeping the rejected ONNX) when the gate fails.
    /// </summary>
    public static BuildReport Run(BuildSpec spec, IDiagnosticSink sink, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(sink);
        var c = CultureInfo.InvariantCulture;
        var seconds = new Dictionary<string, double>();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var data = new DataOptions
        {
            Source = spec.Data,
            Synthetic = new SyntheticDataOptions { TrainCount = spec.SyntheticTrain, TestCount = spec.SyntheticTest },
            Normalize = spec.Normalize,
        };
        var run = new RunOptions { Device = TorchRuntime.ParseDevice(spec.Device), Threads = spec.Threads, Seed = spec.Seed };
        string dataHash = DataHash(data);
        sink.Progress($"spec: {spec.SpecPath}: {spec.Name} ({spec.Model.Architecture}, width {spec.Model.WidthMultiplier.ToString(c)}, data {spec.Data})");

        CheckConfinement(spec);
        // Every folder the run writes, made (or found unusable) now, before minutes of training; all checked before any is
        // made, so a bad one leaves nothing behind.
        var folders = new List<(string Folder, string Key, string Alternatives)>
        {
            (spec.OutputDirectory, "outputDirectory", "--artifact-dir, CompressOutputDir"),
            (spec.IntermediateDirectory, "intermediateDirectory", "--intermediate-dir, CompressIntermediateDir"),
        };
        if (spec.Weights is null) folders.Add((spec.CacheDirectory, "cacheDirectory", "--cache-dir, CompressCacheDir"));
        foreach (var (folder, key, alternatives) in folders)
            if (UnderAFile(folder) is string file)
                throw FolderError(spec, folder, key, alternatives, new IOException($"'{file}' is a file, not a folder"));
        foreach (var (folder, key, alternatives) in folders) CreateFolder(spec, folder, key, alternatives);
        foreach (string folder in new[] { spec.OutputDirectory, spec.IntermediateDirectory, spec.CacheDirectory }.Distinct(StringComparer.Ordinal))
            AtomicFile.RemoveStaleTemporaryFiles(folder, sink);

        // Baseline: given, cached, or trained now and cached.
        bool cached = false;
        string weights;
        if (spec.Weights is not null)
        {
            weights = spec.Weights;
            sink.Progress($"baseline: using weights {weights}");
        }
        else if (spec.Model.IsOnnx)
        {
            // An imported model is its own baseline: its weights are written once per file content (and engine) to
            // the cache, as a checkpoint the pruning step loads like any other.
            string key = JsonOutput.Serialize(new { onnx = FileHash(spec.Model.Architecture), engine = OnnxExporter.ProducerVersion });
            weights = Path.Combine(spec.CacheDirectory, "onnx-" + Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(key))).ToLowerInvariant()[..32] + ".safetensors");
            cached = File.Exists(weights);
            if (cached)
            {
                sink.Progress($"baseline: {spec.Model.Architecture} (its weights cached at {weights})");
            }
            else
            {
                sink.Progress($"baseline: importing {spec.Model.Architecture}; its weights are cached at {weights}");
                CreateCacheDirectory(spec);
                using var imported = Models.Onnx.OnnxImporter.Load(spec.Model.Architecture);
                Models.Checkpoint.SaveSafetensors(imported, weights, new Dictionary<string, string> { ["compress.source_onnx_sha256"] = imported.Origin!.Sha256 });
            }
        }
        else
        {
            var training = TrainingOptions.CifarBaseline with { Epochs = spec.BaselineEpochs, MemoryFormat = MemoryFormatOf(spec), Precision = PrecisionOf(spec) };
            // Content-addressed: the same model, data, recipe, seed, device and engine give the same file, whichever
            // configuration, framework or runtime identifier of the project asks for it.
            string key = JsonOutput.Serialize(new { spec.Model, data = dataHash, training, spec.Seed, spec.Device, engine = OnnxExporter.ProducerVersion });
            weights = Path.Combine(spec.CacheDirectory, Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(key))).ToLowerInvariant()[..32] + ".safetensors");
            if (File.Exists(weights))
            {
                cached = true;
                sink.Progress($"baseline: reusing cached {weights}");
            }
            else
            {
                sink.Progress($"baseline: training {spec.Model.Architecture} for {spec.BaselineEpochs} epoch(s); cached at {weights}");
                CreateCacheDirectory(spec);
                try
                {
                    TrainJob.Run(new TrainJob.Options { Model = spec.Model, Data = data, Training = training, Run = run, OutputPath = weights },
                        sink, cancellationToken);
                }
                catch (CompressException e) when (AttributeToSpec(e, spec) is CompressException attributed)
                {
                    throw attributed;
                }
            }
        }
        seconds["baseline"] = Lap(clock);

        Directory.CreateDirectory(spec.IntermediateDirectory);
        string candidate = Path.Combine(spec.IntermediateDirectory, spec.Name + ".candidate.onnx");
        var context = new AttemptContext(spec, weights, data, run, sink, cancellationToken);
        Attempt attempt;
        BuildReport.SearchReport? search = null;
        if (spec.PruneRate == "auto")
            (attempt, search) = SearchRate(context, candidate, seconds, clock);
        else
        {
            attempt = Prune(context, spec, candidate, seconds, clock);
        }
        var prune = attempt.Prune;
        string? reason = attempt.Reason;
        string? gateKey = attempt.GateKey;
        var structure = attempt.Structure;
        var gate = new BuildReport.GateReport(reason is null, spec.MinAccuracy, spec.MaxAccuracyDrop, reason)
        {
            MaxRelativeAccuracyDrop = spec.MaxRelativeAccuracyDrop,
            MaxBytes = spec.MaxBytes,
            MinSpeedup = spec.MinSpeedup,
        };
        double onnxAccuracy = prune.AccuracyOnnx!.Value;
        sink.Progress(reason is null ? $"gate: passed (ONNX accuracy {onnxAccuracy.ToString("F2", c)}%)" : $"gate: failed: {reason}");
        var warnings = new List<BuildReport.WarningReport>();
        if (NotSmallerWarning(prune, structure) is Diagnostic notSmaller)
        {
            sink.Report(notSmaller);
            warnings.Add(new BuildReport.WarningReport(notSmaller.Code, notSmaller.Hint is null ? notSmaller.Message : notSmaller.Message + " " + notSmaller.Hint));
        }

        string accepted = Path.Combine(spec.OutputDirectory, spec.Name + ".onnx");
        string rejected = Path.Combine(spec.IntermediateDirectory, spec.Name + ".rejected.onnx");
        string onnxPath = reason is null ? accepted : rejected;
        // The artifact and its three reports replace the previous ones together (or, on a failure before the commit,
        // not at all); a failed gate replaces only the reports.
        using var transaction = OutputTransaction.Begin([spec.OutputDirectory], sink);
        if (reason is null)
        {
            AtomicFile.Write(accepted, stream =>
            {
                using var source = File.OpenRead(candidate);
                source.CopyTo(stream);
            });
            File.Delete(candidate);
            if (File.Exists(rejected)) File.Delete(rejected);
        }
        else File.Move(candidate, rejected, overwrite: true);
        seconds["write"] = Lap(clock);

        var export = prune.Export!;
        var analysis = prune.Analysis;
        var report = new BuildReport
        {
            Name = spec.Name,
            Model = spec.Model.Architecture,
            Options = spec,
            Seed = spec.Seed,
            Rate = new BuildReport.RateReport(prune.Rate, search is null ? prune.RateSource : "auto", analysis.Knee.Rate,
                analysis.KurtosisOfKurtoses, analysis.Modifier, analysis.SafeRate),
            Parameters = prune.Parameters,
            ParametersOnnx = export.Compaction?.ParametersAfter ?? export.Parameters,
            Sparsity = prune.Sparsity,
            Macs = export.Macs,
            FileBytes = export.FileBytes,
            Accuracy = new BuildReport.AccuracyReport(prune.AccuracyBefore, prune.AccuracyAfterPrune, prune.AccuracyAfterFinetune, onnxAccuracy),
            Latency = attempt.Latency,
            Gate = gate,
            EngineVersion = OnnxExporter.ProducerVersion,
            Inputs = new Dictionary<string, string>
            {
                ["spec"] = FileHash(spec.SpecPath),
                ["weights"] = (spec.Weights is null ? "baseline " : "") + FileHash(weights),
                ["data"] = dataHash,
            },
            BaselineCached = cached,
            Onnx = Path.GetFullPath(onnxPath),
            Seconds = seconds,
            Structure = structure,
            Channels = prune.ChannelGroups?.Select(ChannelPlanEntry.Of).ToList(),
            LayerSparsity = prune.LayerSparsity,
            Proposal = prune.Proposal,
            Sensitivity = prune.Sensitivity,
            Dynamic = prune.Dynamic,
            Preprocessing = prune.Preprocessing,
            Import = prune.Import,
            Curve = new BuildReport.CurveReport([.. analysis.Rates.Select(r => (double)r)], analysis.Cosine, analysis.Knee.Rate,
                analysis.Knee.Cosine, analysis.SafeRate),
            Histogram = attempt.Histogram,
            Search = search,
            Warnings = warnings,
            Plots = Plots(spec, attempt.Started),
        };
        string reportPath = Path.Combine(spec.OutputDirectory, spec.Name + ".report.json");
        var written = BuildReportFiles.Write(reportPath, report, spec.ProjectDirectory ?? Path.GetDirectoryName(spec.SpecPath)!);
        transaction.Commit();
        sink.Progress($"report: {written.Html} (and {Path.GetFileName(written.Markdown)}, {Path.GetFileName(written.Json)})");
        CiSummary.Publish(written.Markdown, sink);
        if (reason is not null)
        {
            var at = spec.LocationOf(gateKey!);
            throw new CompressException(DiagnosticCode.AccuracyGateFailed, $"The gate failed for '{spec.Name}': {reason}; " +
                $"the rejected model is at {rejected} and {accepted} was not written; the report is {written.Html}.", spec.SpecPath,
                search is null ? GateHint(spec, prune.Rate, analysis.SafeRate) : SearchHint(spec, search))
            { Line = at?.Line, Column = at?.Column };
        }
        return report;
    }

    /// <summary>What every attempt (the run's one prune, or each trial of the search) shares.</summary>
    private sealed record AttemptContext(BuildSpec Spec, string Weights, DataOptions Data, RunOptions Run, IDiagnosticSink Sink,
        CancellationToken Cancellation);

    /// <summary>One prune + fine-tune + export + measurement, and the gate's verdict on it.</summary>
    private sealed record Attempt(PruneResult Prune, BuildReport.StructureReport Structure, BuildReport.LatencyReport Latency,
        BuildReport.HistogramReport? Histogram, string? Reason, string? GateKey, DateTime Started);

    /// <summary>Prunes with <paramref name="spec"/> (the run's, or a trial's), writes the artifact to <paramref name="candidate"/>, measures it and applies the gate.</summary>
    private static Attempt Prune(AttemptContext context, BuildSpec spec, string candidate, Dictionary<string, double> seconds,
        System.Diagnostics.Stopwatch clock)
    {
        var started = DateTime.UtcNow;
        var sink = context.Sink;
        string dense = Path.Combine(spec.IntermediateDirectory, spec.Name + ".unpruned.onnx");
        PruneResult prune;
        try
        {
            prune = PruneJob.Run(PruneOptions(spec, context, candidate, dense), sink, context.Cancellation);
        }
        catch (CompressException e) when (AttributeToSpec(e, spec) is CompressException attributed)
        {
            throw attributed;
        }
        foreach (var (phase, s) in prune.Seconds) seconds[phase] = s;
        clock.Restart();
        try
        {
            var (structure, latency, histogram) = Measure(dense, candidate, spec, sink, context.Cancellation);
            seconds["latency"] = Lap(clock);
            var (reason, key) = Gate(spec, prune.AccuracyBefore, prune.AccuracyOnnx!.Value, structure.BytesAfter, structure.Speedup);
            return new Attempt(prune, structure, latency, histogram, reason, key, started);
        }
        finally
        {
            File.Delete(dense);
        }
    }

    private static MemoryFormat MemoryFormatOf(BuildSpec spec) => PruningNames.MemoryFormat(spec.MemoryFormat) ?? MemoryFormat.Auto;

    private static TrainingPrecision PrecisionOf(BuildSpec spec) => PruningNames.Precision(spec.Precision) ?? TrainingPrecision.Float32;

    private static PruneJob.Options PruneOptions(BuildSpec spec, AttemptContext context, string candidate, string dense) => new()
    {
        Model = spec.Model,
        Weights = context.Weights,
        Data = context.Data,
        Rate = spec.PruneRate == "auto" ? "knee" : spec.PruneRate,
        FineTune = TrainingOptions.PaperFineTune with
        {
            Epochs = spec.FineTuneEpochs,
            MemoryFormat = MemoryFormatOf(spec),
            Precision = PrecisionOf(spec),
            Decorrelation = spec.Decorrelation,
            DecorrelationVariant = PruningNames.DecorrelationVariant(spec.DecorrelationVariant) ?? DecorrelationVariant.Pearson,
        },
        Dynamic = new Pruning.Dynamic.DynamicPruningOptions
        {
            Variant = PruningNames.DynamicVariant(spec.DynamicPrune) ?? Pruning.Dynamic.DynamicPruningVariant.Unstructured,
            MaskInterval = spec.MaskInterval,
            FilterRanking = PruningNames.FilterRanking(spec.FilterRanking) ?? Pruning.Dynamic.FilterRanking.Normalized,
            RampEnd = spec.RampEnd,
            IncludeClassifier = spec.IncludeClassifier,
            IgnoredLayers = spec.IgnoredLayers,
            RoundTo = spec.ChannelRoundTo,
        },
        DynamicTarget = spec.TargetSparsity,
        Run = context.Run,
        OnnxOutputPath = candidate,
        DenseOnnxOutputPath = dense,
        PlotDirectory = spec.IntermediateDirectory,
        PlotName = spec.Name,
        PlotPath = Path.Combine(spec.IntermediateDirectory, spec.Name + ".cosine.png"),
        EmbedPreprocessing = spec.EmbedPreprocessing,
        Method = MethodOf(spec),
        Channel = new ChannelPruningOptions
        {
            Ratio = spec.ChannelRatio,
            LayerRatios = spec.ChannelLayerRatios,
            Ranking = ChannelRankingNames.Parse(spec.Ranking) ?? ChannelRanking.L2,
            GlobalRanking = spec.GlobalRanking,
            IgnoredLayers = spec.IgnoredLayers,
            RoundTo = spec.ChannelRoundTo,
        },
        Unstructured = new Pruning.Unstructured.UnstructuredPruningOptions
        {
            Criterion = PruningNames.Criterion(spec.Criterion),
            Scope = PruningNames.Scope(spec.Scope) ?? PruneScope.Global,
            IncludeClassifier = spec.IncludeClassifier,
            GradientImages = spec.GradientImages,
        },
        Schedule = spec.Schedule == "iterative"
            ? new PruneSchedule
            {
                Steps = spec.Steps,
                Shape = PruningNames.ScheduleShape(spec.ScheduleShape) ?? PruneScheduleShape.Linear,
                EpochsBetween = spec.EpochsBetween,
            }
            : PruneSchedule.OneShot,
        Layerwise = new LayerwiseOptions
        {
            Sparsity = spec.Sparsity,
            TargetSize = spec.TargetSize,
            MaxAccuracyDrop = spec.SensitivityMaxDrop,
        },
    };

    /// <summary>
    /// <c>pruneRate: "auto"</c>: the largest value of the method's knob whose artifact passes the gate. The first trial
    /// is the upper bound (the knee, or the channel ratio or target sparsity the spec gives); when it fails, bisection
    /// between the best passing value (0 at first) and the lowest failing one, rounded to 0.0001, for the remaining
    /// trials. The best passing artifact is kept as the candidate; when none passes, the lowest tried is.
    /// </summary>
    private static (Attempt Chosen, BuildReport.SearchReport Search) SearchRate(AttemptContext context, string candidate,
        Dictionary<string, double> seconds, System.Diagnostics.Stopwatch clock)
    {
        var spec = context.Spec;
        var sink = context.Sink;
        var c = CultureInfo.InvariantCulture;
        string knob = KnobOf(spec);
        string trialPath = Path.Combine(spec.IntermediateDirectory, spec.Name + ".trial.onnx");
        double upper = spec.Method switch
        {
            "channel" when spec.LocationOf("channelRatio") is not null => spec.ChannelRatio,
            "dynamic" when spec.TargetSparsity is double target => target,
            _ => KneeOf(context),
        };
        var trials = new List<BuildReport.TrialReport>();
        Attempt? best = null, lowest = null;
        double bestValue = 0, lowestValue = upper;
        double low = 0, high = upper, value = upper;
        try
        {
            for (int trial = 1; trial <= spec.MaxTrials; trial++)
            {
                sink.Progress(string.Create(c, $"search: trial {trial}/{spec.MaxTrials}: {knob} {value:0.####} (passing so far: {(best is null ? "none" : bestValue.ToString("0.####", c))})"));
                var trialClock = System.Diagnostics.Stopwatch.StartNew();
                var attempt = Prune(context, WithKnob(spec, value), trialPath, seconds, clock);
                bool passed = attempt.Reason is null;
                trials.Add(new BuildReport.TrialReport(trial, value, attempt.Prune.AccuracyOnnx!.Value, attempt.Structure.BytesAfter,
                    attempt.Structure.Speedup, passed, attempt.Reason, trialClock.Elapsed.TotalSeconds));
                sink.Progress(string.Create(c, $"search: trial {trial}: {knob} {value:0.####}: ONNX accuracy {attempt.Prune.AccuracyOnnx:F2}%, {(passed ? "passes" : "fails: " + attempt.Reason)}"));
                if (passed)
                {
                    (best, bestValue, low) = (attempt, value, value);
                    File.Move(trialPath, candidate, overwrite: true);
                    if (value >= upper) break;
                }
                else
                {
                    high = value;
                    if (best is null)
                    {
                        (lowest, lowestValue) = (attempt, value);
                        File.Move(trialPath, candidate, overwrite: true);
                    }
                }
                double next = Math.Round((low + high) / 2, 4, MidpointRounding.ToEven);
                if (next <= low || next >= high) break;
                value = next;
            }
        }
        finally
        {
            if (File.Exists(trialPath)) File.Delete(trialPath);
        }
        var chosen = best ?? lowest!;
        sink.Progress(best is null
            ? string.Create(c, $"search: no {knob} up to {upper:0.####} passed in {trials.Count} trial(s); the lowest tried ({lowestValue:0.####}) is reported")
            : string.Create(c, $"search: chose {knob} {bestValue:0.####} after {trials.Count} trial(s)"));
        var search = new BuildReport.SearchReport(knob, upper, spec.MaxTrials, best is null ? null : bestValue, trials);
        return (chosen, search);
    }

    /// <summary>The spec key the search (and the gate's hint) turns: pruneRate, channelRatio or targetSparsity.</summary>
    private static string KnobOf(BuildSpec spec) => spec.Method switch
    {
        "channel" => "channelRatio",
        "dynamic" when spec.DynamicPrune == "filter" || spec.TargetSparsity is not null => "targetSparsity",
        _ => "pruneRate",
    };

    private static BuildSpec WithKnob(BuildSpec spec, double value)
    {
        string text = value.ToString("R", CultureInfo.InvariantCulture);
        return KnobOf(spec) switch
        {
            "channelRatio" => spec with { ChannelRatio = value, PruneRate = text },
            "targetSparsity" => spec with { TargetSparsity = value, PruneRate = text },
            _ => spec with { PruneRate = text },
        };
    }

    /// <summary>The knee of the baseline's cosine curve (the search's upper bound).</summary>
    private static double KneeOf(AttemptContext context)
    {
        using var prepared = PreparedRun.Start(context.Spec.Model, context.Weights, context.Data, context.Run, context.Sink);
        var analysis = Analysis.PruneAnalyzer.Analyze(prepared.Model, new Analysis.AnalysisOptions(), context.Sink);
        context.Sink.Progress(string.Create(CultureInfo.InvariantCulture,
            $"search: the knee is at {analysis.Knee.Rate:0.####} (safe rate {analysis.SafeRate:0.####}); bisection between 0 and it"));
        return analysis.Knee.Rate;
    }

    /// <summary>A failed search's hint: a value below the lowest tried, or more trials.</summary>
    private static string SearchHint(BuildSpec spec, BuildReport.SearchReport search)
    {
        double lowest = search.Trials.Min(t => t.Rate);
        double lower = Math.Floor(lowest * 50) / 100;
        return string.Create(CultureInfo.InvariantCulture,
            $"No {search.Knob} from {lowest:0.####} to {search.Upper:0.####} passed: set {search.Knob} to {(lower > 0 ? lower : lowest / 2):0.00##} or lower, raise maxTrials (now {spec.MaxTrials}) or fineTuneEpochs, or relax the gate.");
    }

    /// <summary>
    /// CMP0624 when the artifact is neither smaller (file bytes) nor faster (ONNX Runtime batch-1 median) than the
    /// unpruned model by more than 5%: unstructured zeros are still stored and still multiplied. Names channel pruning,
    /// which removes them, with the measured figures.
    /// </summary>
    internal static Diagnostic? NotSmallerWarning(PruneResult prune, BuildReport.StructureReport s)
    {
        if (s.BytesRatio >= 1.05 || s.Speedup >= 1.05) return null;
        var c = CultureInfo.InvariantCulture;
        string zeros = s.NonzerosAfter < s.NonzerosBefore
            ? string.Create(c, $"its {s.ParametersAfter - s.NonzerosAfter:N0} zero weights are still stored and computed (only gzip sees them: {s.GzipBytesBefore:N0} -> {s.GzipBytesAfter:N0} bytes)")
            : "nothing was removed from the graph";
        return Diagnostic.Warning(DiagnosticCode.ArtifactNotSmaller, string.Create(c,
            $"The {Pruning.PruningNames.NameOf(prune.Method)} artifact is not smaller or faster in ONNX Runtime: {s.BytesBefore:N0} -> {s.BytesAfter:N0} bytes ({s.BytesRatio:F2}x), " +
            $"{s.MacsBefore:N0} -> {s.MacsAfter:N0} MACs, batch-1 median {s.LatencyBeforeMs:F3} -> {s.LatencyAfterMs:F3} ms ({s.Speedup:F2}x); {zeros}."),
            hint: "Channel pruning removes whole channels and gives a smaller, faster file: \"method\": \"channel\" (or Method=\"channel\"), or \"method\": \"dynamic\" with \"dynamicPrune\": \"filter\".");
    }

    /// <summary>The PNG plots of this run in the intermediate folder (those written since <paramref name="since"/>).</summary>
    private static List<string> Plots(BuildSpec spec, DateTime since)
    {
        string[] kinds = ["cosine", "histograms", "sensitivity"];
        return [.. kinds.Select(k => Path.Combine(spec.IntermediateDirectory, $"{spec.Name}.{k}.png"))
            .Where(p => File.Exists(p) && File.GetLastWriteTimeUtc(p) >= since.AddSeconds(-2))];
    }

    /// <summary>
    /// What to loosen when the gate fails: the knob of the spec's method with a concrete lower value: the safe rate when
    /// more than it was applied, else three quarters of what was applied (never a higher one, such as "knee", which is
    /// at least the safe rate); or the search.
    /// </summary>
    internal static string GateHint(BuildSpec spec, double appliedRate, double safeRate = double.NaN)
    {
        static string Lower(string key, double applied, double safe)
        {
            double lower = Math.Floor(applied * 75) / 100;
            if (lower <= 0) lower = applied / 2;
            if (double.IsFinite(safe) && safe > lower && safe < applied - 1e-4) lower = Math.Floor(safe * 10000) / 10000;
            return string.Create(CultureInfo.InvariantCulture,
                $"Lower {key} below the {applied:0.####} applied, e.g. {lower:0.00##}, or let \"pruneRate\": \"auto\" search for the largest that passes; or raise fineTuneEpochs, or relax the gate.");
        }
        return spec.Method switch
        {
            "channel" => Lower("channelRatio", spec.ChannelRatio, double.NaN),
            "layerwise" => "Lower the sparsities (or raise targetSize), raise fineTuneEpochs, or relax the gate.",
            "dynamic" when spec.TargetSparsity is double target => Lower("targetSparsity", target, double.NaN),
            _ => Lower("pruneRate", appliedRate, safeRate),
        };
    }

    /// <summary>
    /// CMP0626 when a folder the spec itself names (output, intermediate, cache; not one the command line replaced) lies
    /// outside the spec's folder and the project's, unless the spec or the command line allows it: a spec must not make
    /// the engine write anywhere on the machine (the MSBuild task confines its own folders with CMP0609).
    /// </summary>
    internal static void CheckConfinement(BuildSpec spec)
    {
        if (spec.AllowOutputOutsideProject) return;
        var roots = new[] { Path.GetDirectoryName(Path.GetFullPath(spec.SpecPath)), spec.ProjectDirectory }
            .Where(r => !string.IsNullOrEmpty(r)).Select(r => Path.TrimEndingDirectorySeparator(Path.GetFullPath(r!)) + Path.DirectorySeparatorChar).Distinct().ToList();
        var comparison = OperatingSystem.IsWindows() || OperatingSystem.IsMacOS() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
        foreach (var (key, folder) in new[] { ("outputDirectory", spec.OutputDirectory), ("intermediateDirectory", spec.IntermediateDirectory), ("cacheDirectory", spec.CacheDirectory) })
        {
            if (spec.LocationOf(key) is not SpecLocation at || spec.Overridden.Contains(key)) continue;
            string full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(folder)) + Path.DirectorySeparatorChar;
            if (roots.Any(r => full.StartsWith(r, comparison))) continue;
            throw new CompressException(DiagnosticCode.OutputOutsideProjectFolder,
                $"'{key}' resolves to '{full}', outside the spec's folder and the project ({string.Join(", ", roots)}).", spec.SpecPath,
                "Point it inside the spec's or project's folder, or set \"allowOutputOutsideProject\": true (run --allow-output-outside-project; the build step's CompressAllowOutputOutsideProject=true) if writing there is intended.")
            { Line = at.Line, Column = at.Column };
        }
    }

    /// <summary>Creates <paramref name="folder"/>; CMP0004 at the spec's key (when written there) when it cannot be made.</summary>
    private static void CreateFolder(BuildSpec spec, string folder, string key, string alternatives)
    {
        try
        {
            Directory.CreateDirectory(folder);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw FolderError(spec, folder, key, alternatives, e);
        }
    }

    /// <summary>The nearest existing path at or above <paramref name="folder"/> when it is a file (so the folder cannot be made).</summary>
    private static string? UnderAFile(string folder)
    {
        for (string? path = Path.GetFullPath(folder); path is not null; path = Path.GetDirectoryName(path))
        {
            if (Directory.Exists(path)) return null;
            if (File.Exists(path)) return path;
        }
        return null;
    }

    private static CompressException FolderError(BuildSpec spec, string folder, string key, string alternatives, Exception e)
    {
        var at = spec.LocationOf(key);
        // A folder the command line gave is reported at the folder; one the spec gave at its key.
        bool fromSpec = at is not null && !spec.Overridden.Contains(key);
        return new CompressException(DiagnosticCode.OutputWriteFailed, $"Could not create the {key} folder '{folder}': {e.Message.TrimEnd('.')}.",
            fromSpec ? spec.SpecPath : folder, $"Point {key} (or {alternatives}) at a folder that can be created and written.", e)
        { Line = fromSpec ? at!.Value.Line : null, Column = fromSpec ? at!.Value.Column : null };
    }

    private static void CreateCacheDirectory(BuildSpec spec)
    {
        try
        {
            Directory.CreateDirectory(spec.CacheDirectory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CompressException(DiagnosticCode.OutputWriteFailed, $"Could not create the baseline cache folder: {e.Message}",
                spec.CacheDirectory, "Point cacheDirectory (or --cache-dir, CompressCacheDir) at a writable folder.", e);
        }
    }

    /// <summary>
    /// A problem with the spec's weights file or data folder (bad checkpoint, dataset not fitting the model), or with
    /// the layer names it gives an imported model, re-aimed at the <c>weights</c>, <c>data</c>, <c>ignoredLayers</c>,
    /// <c>channelRatio</c> or <c>sparsity</c> line of the spec so the build error lands there; the message still names
    /// the file. Null when the exception concerns something else or already has a position.
    /// </summary>
    private static readonly string[] LayerKeys = ["ignoredLayers", "channelRatio"];

    private static CompressException? AttributeToSpec(CompressException e, BuildSpec spec)
    {
        if (e.Line is not null) return null;
        // Layer names of an imported model are known only once it is read: blamed on the key that named them.
        string? key = e.Code switch
        {
            DiagnosticCode.UnknownChannelLayer => LayerKeys.FirstOrDefault(k => spec.LocationOf(k) is not null),
            DiagnosticCode.UnknownPrunableParameter => spec.LocationOf("sparsity") is not null ? "sparsity" : null,
            _ => null,
        };
        if (key is null && e.FilePath is null) return null;
        string? full = e.FilePath is null ? null : Path.GetFullPath(e.FilePath);
        key ??= spec.Weights is not null && full == spec.Weights ? "weights"
            : spec.Data != "synthetic" && full is not null && (full == spec.Data || full.StartsWith(spec.Data + Path.DirectorySeparatorChar, StringComparison.Ordinal)) ? "data"
            : null;
        if (key is null || spec.LocationOf(key) is not SpecLocation at) return null;
        return new CompressException(e.Code, e.Message, spec.SpecPath, e.Hint, e) { Line = at.Line, Column = at.Column };
    }

    /// <summary>
    /// Every file a run of <paramref name="spec"/> reads, absolute and sorted: the spec, the weights, the sparsity file
    /// and each data file, plus the data folder itself with a trailing separator, standing for every file under it (so a file
    /// added later counts too; a removed one is a listed file that no longer exists). The build step lists them in a
    /// dependency file so that changing any of them reruns the model.
    /// </summary>
    public static IReadOnlyList<string> InputFiles(BuildSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var files = new SortedSet<string>(StringComparer.Ordinal) { Path.GetFullPath(spec.SpecPath) };
        if (spec.Weights is not null) files.Add(Path.GetFullPath(spec.Weights));
        if (spec.Model.IsOnnx) files.Add(Path.GetFullPath(spec.Model.Architecture));
        if (spec.SparsityFile is not null) files.Add(spec.SparsityFile);
        if (!spec.Data.Equals("synthetic", StringComparison.OrdinalIgnoreCase))
        {
            string data = Path.GetFullPath(spec.Data);
            if (File.Exists(data)) files.Add(data);
            else if (Directory.Exists(data))
            {
                files.Add(data.TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar);
                foreach (var file in DataFiles(data)) files.Add(file);
            }
        }
        return [.. files];
    }

    /// <summary>Why the gate fails (null when it passes) and the spec key to point at; every failed condition is named.</summary>
    internal static (string? Reason, string? Key) Gate(BuildSpec spec, double unpruned, double onnx, long bytes = 0, double speedup = double.NaN)
    {
        var c = CultureInfo.InvariantCulture;
        var failures = new List<(string Reason, string Key)>();
        if (spec.MinAccuracy is double min && onnx < min)
            failures.Add((string.Create(c, $"accuracy {onnx:F2}% is below minAccuracy {min}%"), "minAccuracy"));
        if (spec.MaxAccuracyDrop is double drop && unpruned - onnx > drop)
            failures.Add((string.Create(c, $"accuracy dropped {unpruned - onnx:F2} points ({unpruned:F2}% to {onnx:F2}%), more than maxAccuracyDrop {drop}"),
                "maxAccuracyDrop"));
        if (spec.MaxRelativeAccuracyDrop is double relative && unpruned > 0 && (unpruned - onnx) / unpruned * 100 > relative)
            failures.Add((string.Create(c, $"accuracy dropped {(unpruned - onnx) / unpruned * 100:F2}% of the unpruned {unpruned:F2}% (to {onnx:F2}%), more than maxRelativeAccuracyDrop {relative}%"),
                "maxRelativeAccuracyDrop"));
        if (spec.MaxBytes is long maxBytes && bytes > maxBytes)
            failures.Add((string.Create(c, $"the artifact is {bytes:N0} bytes, more than maxBytes {maxBytes:N0}"), "maxBytes"));
        if (spec.MinSpeedup is double minSpeedup && !(speedup >= minSpeedup))
            failures.Add((string.Create(c, $"the artifact is {speedup:F2}x as fast as the unpruned model in ONNX Runtime, less than minSpeedup {minSpeedup}"), "minSpeedup"));
        return failures.Count == 0 ? (null, null) : (string.Join("; ", failures.Select(f => f.Reason)), failures[0].Key);
    }

    private static PruneMethod MethodOf(BuildSpec spec) => PruningNames.Method(spec.Method) ?? PruneMethod.Global;

    /// <summary>Bins of the weight histogram.</summary>
    private const int HistogramBins = 60;

    /// <summary>
    /// The unpruned model and the artifact (ONNX files) measured the same way: bytes, gzip bytes, parameters, nonzeros,
    /// MACs per node, a shared weight histogram, and batch-1 latency in ONNX Runtime timed alternately (at least
    /// <see cref="TimedRuns"/> runs each, more for small models, about <see cref="LatencySeconds"/> s in all).
    /// </summary>
    private static (BuildReport.StructureReport Structure, BuildReport.LatencyReport Latency, BuildReport.HistogramReport Histogram) Measure(
        string denseOnnx, string artifactOnnx, BuildSpec spec, IDiagnosticSink sink, CancellationToken cancellationToken)
    {
        var denseProto = Onnx.ModelProto.Parser.ParseFrom(File.ReadAllBytes(denseOnnx));
        var artifactProto = Onnx.ModelProto.Parser.ParseFrom(File.ReadAllBytes(artifactOnnx));
        var before = OnnxProfile.Measure(denseProto);
        var after = OnnxProfile.Measure(artifactProto);
        var beforeFile = OnnxFileStats.Measure(denseOnnx, denseProto);
        var afterFile = OnnxFileStats.Measure(artifactOnnx, artifactProto);
        double limit = OnnxFileStats.MaxAbsWeight(denseProto);
        var (countsBefore, zerosBefore) = OnnxFileStats.WeightHistogram(denseProto, limit, HistogramBins);
        var (countsAfter, zerosAfter) = OnnxFileStats.WeightHistogram(artifactProto, limit, HistogramBins);

        bool cuda = spec.Device == "cuda" || (spec.Device == "auto" && TorchRuntime.CudaAvailable());
        var timing = OrtBenchmark.TimeAgainst(artifactOnnx, denseOnnx, TimedRuns,
            new OrtSessionSettings { Device = cuda ? OrtDeviceKind.Cuda : OrtDeviceKind.Cpu, Threads = spec.Threads }, sink,
            LatencySeconds, cancellationToken);
        var latencyAfter = timing.LatencyMs;
        var latencyBefore = timing.Baseline!.LatencyMs;
        int runs = latencyAfter.Runs;
        sink.Progress(string.Create(CultureInfo.InvariantCulture,
            $"latency: ONNX Runtime ({timing.Device}) batch 1, alternating with the unpruned model over {runs} runs each: p50 {latencyAfter.P50:F3} ms (unpruned {latencyBefore.P50:F3} ms), p90 {latencyAfter.P90:F3} ms"));

        var afterByName = after.Nodes.GroupBy(n => n.Name, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        var layers = before.Nodes.Select(n =>
        {
            var a = afterByName.GetValueOrDefault(n.Name);
            return new BuildReport.LayerReport(n.Name, n.OpType, n.Macs, a?.Macs, n.Parameters, a?.Parameters, n.OutputShape, a?.OutputShape)
            {
                NonzerosBefore = beforeFile.NodeNonzeros.GetValueOrDefault(n.Name),
                NonzerosAfter = a is null ? null : afterFile.NodeNonzeros.GetValueOrDefault(n.Name),
            };
        }).ToList();
        var structure = new BuildReport.StructureReport(before.Macs, after.Macs, Ratio(before.Macs, after.Macs), before.Parameters,
            after.Parameters, Ratio(before.Parameters, after.Parameters), latencyBefore.P50, latencyAfter.P50,
            timing.Ratio!.Speedup, layers)
        {
            BytesBefore = beforeFile.Bytes,
            BytesAfter = afterFile.Bytes,
            GzipBytesBefore = beforeFile.GzipBytes,
            GzipBytesAfter = afterFile.GzipBytes,
            NonzerosBefore = beforeFile.Nonzeros,
            NonzerosAfter = afterFile.Nonzeros,
            LatencyRuns = runs,
        };
        sink.Progress(string.Create(CultureInfo.InvariantCulture,
            $"structure: {structure.BytesBefore:N0} -> {structure.BytesAfter:N0} bytes (gzip {structure.GzipBytesBefore:N0} -> {structure.GzipBytesAfter:N0}), nonzero parameters {structure.NonzerosBefore:N0} -> {structure.NonzerosAfter:N0} of {structure.ParametersAfter:N0}, MACs {structure.MacsBefore:N0} -> {structure.MacsAfter:N0} ({structure.MacsRatio:F2}x), latency p50 {structure.LatencyBeforeMs:F3} -> {structure.LatencyAfterMs:F3} ms ({structure.Speedup:F2}x)"));
        var latency = new BuildReport.LatencyReport(latencyAfter.P50, latencyAfter.P90, runs, 1, timing.Device);
        var histogram = new BuildReport.HistogramReport(limit, countsBefore, countsAfter, zerosBefore, zerosAfter);
        return (structure, latency, histogram);
    }

    private static double Ratio(double before, double after) => after > 0 ? before / after : double.PositiveInfinity;

    /// <summary><c>synthetic(train=..,test=..,seed=..)</c>, or the SHA-256 of a folder's files (relative names and contents).</summary>
    private static string DataHash(DataOptions data)
    {
        if (data.Source.Equals("synthetic", StringComparison.OrdinalIgnoreCase))
            return string.Create(CultureInfo.InvariantCulture,
                $"synthetic(train={data.Synthetic.TrainCount},test={data.Synthetic.TestCount},seed={data.Synthetic.Seed},generator={SyntheticImages.GeneratorVersion})");
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var file in DataFiles(data.Source))
        {
            hash.AppendData(Encoding.UTF8.GetBytes(Path.GetRelativePath(data.Source, file).Replace('\\', '/') + "\n"));
            using var stream = File.OpenRead(file);
            hash.AppendData(SHA256.HashData(stream));
        }
        return "sha256:" + Convert.ToHexString(hash.GetHashAndReset()).ToLowerInvariant();
    }

    /// <summary>
    /// The files of a data folder a loader can read, sorted: the folder's own files and those of its CIFAR archive folder
    /// (CIFAR-10 binary, MNIST IDX), and the images under <c>train/</c> and <c>test/</c>. Not every file below the folder:
    /// a data folder pointing at a large or system folder must not be hashed whole. Links that lead nowhere are left out
    /// (the loader reports a missing file it needs).
    /// </summary>
    internal static IReadOnlyList<string> DataFiles(string folder)
    {
        var files = new SortedSet<string>(StringComparer.Ordinal);
        void Add(IEnumerable<string> candidates)
        {
            foreach (var file in candidates)
            {
                var info = new FileInfo(file);
                // File.Exists is true for a link itself; a link whose target is gone holds nothing to read.
                if (info.Exists && (info.LinkTarget is null || info.ResolveLinkTarget(returnFinalTarget: true) is { Exists: true }))
                    files.Add(file);
            }
        }
        try
        {
            Add(Directory.EnumerateFiles(folder));
            if (Data.CifarBinaryReader.FindDataFolder(folder) is string cifar && cifar != folder) Add(Directory.EnumerateFiles(cifar));
            foreach (string split in new[] { "train", "test" })
            {
                string dir = Path.Combine(folder, split);
                if (Directory.Exists(dir))
                    Add(Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories)
                        .Where(f => ImageFolderReader.Extensions.Contains(Path.GetExtension(f), StringComparer.OrdinalIgnoreCase)));
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CompressException(DiagnosticCode.DatasetNotFound, $"The data folder '{folder}' cannot be listed: {e.Message.TrimEnd('.')}.",
                folder, "Point data at a readable folder with CIFAR-10 binary, MNIST IDX or train/ and test/ image folders.", e);
        }
        return [.. files];
    }

    private static string FileHash(string path)
    {
        using var stream = File.OpenRead(path);
        return "sha256:" + Convert.ToHexString(SHA256.HashData(stream)).ToLowerInvariant();
    }

    private static double Lap(System.Diagnostics.Stopwatch clock)
    {
        double s = clock.Elapsed.TotalSeconds;
        clock.Restart();
        return s;
    }
}

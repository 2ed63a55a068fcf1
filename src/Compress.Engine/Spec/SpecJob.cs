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
    /// <summary>Timed ONNX Runtime runs for the latency figure (after <see cref="WarmupRuns"/> untimed ones).</summary>
    public const int TimedRuns = 50;

    /// <summary>Untimed runs before timing.</summary>
    public const int WarmupRuns = 10;

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
            var training = TrainingOptions.CifarBaseline with { Epochs = spec.BaselineEpochs };
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
        string dense = Path.Combine(spec.IntermediateDirectory, spec.Name + ".unpruned.onnx");
        PruneResult prune;
        try
        {
            prune = PruneJob.Run(new PruneJob.Options
            {
                Model = spec.Model,
                Weights = weights,
                Data = data,
                Rate = spec.PruneRate,
                FineTune = TrainingOptions.PaperFineTune with
                {
                    Epochs = spec.FineTuneEpochs,
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
                Run = run,
                OnnxOutputPath = candidate,
                DenseOnnxOutputPath = dense,
                PlotDirectory = spec.IntermediateDirectory,
                PlotName = spec.Name,
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
            }, sink, cancellationToken);
        }
        catch (CompressException e) when (AttributeToSpec(e, spec) is CompressException attributed)
        {
            throw attributed;
        }
        foreach (var (phase, s) in prune.Seconds) seconds[phase] = s;
        clock.Restart();

        var latency = MeasureLatency(candidate, spec, sink, cancellationToken);
        var denseLatency = MeasureLatency(dense, spec, sink, cancellationToken, "unpruned ");
        var structure = Structure(dense, candidate, denseLatency.P50Ms, latency.P50Ms);
        File.Delete(dense);
        sink.Progress(string.Create(c,
            $"structure: MACs {structure.MacsBefore:N0} -> {structure.MacsAfter:N0} ({structure.MacsRatio:F2}x), parameters {structure.ParametersBefore:N0} -> {structure.ParametersAfter:N0}, latency p50 {structure.LatencyBeforeMs:F3} -> {structure.LatencyAfterMs:F3} ms ({structure.Speedup:F2}x)"));
        seconds["latency"] = Lap(clock);

        double onnxAccuracy = prune.AccuracyOnnx!.Value;
        var (reason, gateKey) = Gate(spec, prune.AccuracyBefore, onnxAccuracy);
        var gate = new BuildReport.GateReport(reason is null, spec.MinAccuracy, spec.MaxAccuracyDrop, reason);
        sink.Progress(reason is null ? $"gate: passed (ONNX accuracy {onnxAccuracy.ToString("F2", c)}%)" : $"gate: failed: {reason}");

        string accepted = Path.Combine(spec.OutputDirectory, spec.Name + ".onnx");
        string rejected = Path.Combine(spec.IntermediateDirectory, spec.Name + ".rejected.onnx");
        string onnxPath = reason is null ? accepted : rejected;
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
        var report = new BuildReport
        {
            Name = spec.Name,
            Model = spec.Model.Architecture,
            Options = spec,
            Seed = spec.Seed,
            Rate = new BuildReport.RateReport(prune.Rate, prune.RateSource, prune.Analysis.Knee.Rate,
                prune.Analysis.KurtosisOfKurtoses, prune.Analysis.Modifier, prune.Analysis.SafeRate),
            Parameters = prune.Parameters,
            ParametersOnnx = export.Compaction?.ParametersAfter ?? export.Parameters,
            Sparsity = prune.Sparsity,
            Macs = export.Macs,
            FileBytes = export.FileBytes,
            Accuracy = new BuildReport.AccuracyReport(prune.AccuracyBefore, prune.AccuracyAfterPrune, prune.AccuracyAfterFinetune, onnxAccuracy),
            Latency = latency,
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
            Dynamic = prune.Dynamic,
            Preprocessing = prune.Preprocessing,
            Import = prune.Import,
        };
        string reportPath = Path.Combine(spec.OutputDirectory, spec.Name + ".report.json");
        JsonOutput.WriteFile(reportPath, report);
        sink.Progress($"report: {reportPath}");
        if (reason is not null)
        {
            var at = spec.LocationOf(gateKey!);
            throw new CompressException(DiagnosticCode.AccuracyGateFailed, $"Accuracy gate failed for '{spec.Name}': {reason}; " +
                $"the rejected model is at {rejected} and {accepted} was not written.", spec.SpecPath,
                GateHint(spec, prune.Rate))
            { Line = at?.Line, Column = at?.Column };
        }
        return report;
    }

    /// <summary>
    /// What to loosen when the gate fails: the knob of the spec's method, with a concrete lower value (three quarters of
    /// what was applied; never a higher one, such as "knee", which is at least the safe rate).
    /// </summary>
    internal static string GateHint(BuildSpec spec, double appliedRate)
    {
        static string Lower(string key, double applied)
        {
            double lower = Math.Floor(applied * 75) / 100;
            if (lower <= 0) lower = applied / 2;
            return string.Create(CultureInfo.InvariantCulture,
                $"Lower {key} below the {applied:0.####} applied, e.g. {lower:0.00##}; or raise fineTuneEpochs, or relax the gate.");
        }
        return spec.Method switch
        {
            "channel" => Lower("channelRatio", spec.ChannelRatio),
            "layerwise" => "Lower the sparsities (or raise targetSize), raise fineTuneEpochs, or relax the gate.",
            "dynamic" when spec.TargetSparsity is double target => Lower("targetSparsity", target),
            _ => Lower("pruneRate", appliedRate),
        };
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
    /// A problem with the spec's weights file or data folder (bad checkpoint, dataset not fitting the model), re-aimed
    /// at the <c>weights</c> or <c>data</c> line of the spec so the build error lands there; the message still names
    /// the file. Null when the exception concerns something else or already has a position.
    /// </summary>
    private static CompressException? AttributeToSpec(CompressException e, BuildSpec spec)
    {
        if (e.Line is not null || e.FilePath is null) return null;
        string full = Path.GetFullPath(e.FilePath);
        string? key = spec.Weights is not null && full == spec.Weights ? "weights"
            : spec.Data != "synthetic" && (full == spec.Data || full.StartsWith(spec.Data + Path.DirectorySeparatorChar, StringComparison.Ordinal)) ? "data"
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
                foreach (var file in Directory.EnumerateFiles(data, "*", SearchOption.AllDirectories)) files.Add(file);
            }
        }
        return [.. files];
    }

    /// <summary>Why the gate fails (null when it passes) and the spec key to point at.</summary>
    internal static (string? Reason, string? Key) Gate(BuildSpec spec, double unpruned, double onnx)
    {
        var c = CultureInfo.InvariantCulture;
        if (spec.MinAccuracy is double min && onnx < min)
            return (string.Create(c, $"accuracy {onnx:F2}% is below minAccuracy {min}%"), "minAccuracy");
        if (spec.MaxAccuracyDrop is double drop && unpruned - onnx > drop)
            return (string.Create(c, $"accuracy dropped {unpruned - onnx:F2} points ({unpruned:F2}% to {onnx:F2}%), more than maxAccuracyDrop {drop}"),
                "maxAccuracyDrop");
        return (null, null);
    }

    private static PruneMethod MethodOf(BuildSpec spec) => PruningNames.Method(spec.Method) ?? PruneMethod.Global;

    /// <summary>The two ONNX graphs profiled the same way, matched node by node (by name).</summary>
    private static BuildReport.StructureReport Structure(string denseOnnx, string artifactOnnx, double latencyBefore, double latencyAfter)
    {
        var before = OnnxProfile.Measure(Onnx.ModelProto.Parser.ParseFrom(File.ReadAllBytes(denseOnnx)));
        var after = OnnxProfile.Measure(Onnx.ModelProto.Parser.ParseFrom(File.ReadAllBytes(artifactOnnx)));
        var afterByName = after.Nodes.GroupBy(n => n.Name, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        var layers = before.Nodes.Select(n =>
        {
            var a = afterByName.GetValueOrDefault(n.Name);
            return new BuildReport.LayerReport(n.Name, n.OpType, n.Macs, a?.Macs, n.Parameters, a?.Parameters, n.OutputShape, a?.OutputShape);
        }).ToList();
        return new BuildReport.StructureReport(before.Macs, after.Macs, Ratio(before.Macs, after.Macs), before.Parameters,
            after.Parameters, Ratio(before.Parameters, after.Parameters), latencyBefore, latencyAfter, Ratio(latencyBefore, latencyAfter), layers);
    }

    private static double Ratio(double before, double after) => after > 0 ? before / after : double.PositiveInfinity;

    private static BuildReport.LatencyReport MeasureLatency(string onnx, BuildSpec spec, IDiagnosticSink sink,
        CancellationToken cancellationToken, string what = "")
    {
        bool cuda = spec.Device == "cuda" || (spec.Device == "auto" && TorchRuntime.CudaAvailable());
        using var classifier = OrtClassifier.Load(onnx, new OrtSessionSettings
        {
            Device = cuda ? OrtDeviceKind.Cuda : OrtDeviceKind.Cpu,
            Threads = spec.Threads,
        }, sink);
        using var runner = classifier.CreateRunner(1);
        runner.Input.Clear();
        for (int i = 0; i < WarmupRuns; i++) runner.Run();
        var samples = new double[TimedRuns];
        for (int i = 0; i < TimedRuns; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            long start = System.Diagnostics.Stopwatch.GetTimestamp();
            runner.Run();
            samples[i] = System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }
        var stats = LatencyStats.FromSamples(samples);
        string device = classifier.Device == OrtDeviceKind.Cuda ? "cuda" : "cpu";
        sink.Progress(string.Create(CultureInfo.InvariantCulture,
            $"latency: {what}ONNX Runtime ({device}) batch 1: p50 {stats.P50:F3} ms, p90 {stats.P90:F3} ms over {TimedRuns} runs"));
        return new BuildReport.LatencyReport(stats.P50, stats.P90, TimedRuns, 1, device);
    }

    /// <summary><c>synthetic(train=..,test=..,seed=..)</c>, or the SHA-256 of a folder's files (relative names and contents).</summary>
    private static string DataHash(DataOptions data)
    {
        if (data.Source.Equals("synthetic", StringComparison.OrdinalIgnoreCase))
            return string.Create(CultureInfo.InvariantCulture,
                $"synthetic(train={data.Synthetic.TrainCount},test={data.Synthetic.TestCount},seed={data.Synthetic.Seed},generator={SyntheticImages.GeneratorVersion})");
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var file in Directory.EnumerateFiles(data.Source, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            hash.AppendData(Encoding.UTF8.GetBytes(Path.GetRelativePath(data.Source, file).Replace('\\', '/') + "\n"));
            using var stream = File.OpenRead(file);
            hash.AppendData(SHA256.HashData(stream));
        }
        return "sha256:" + Convert.ToHexString(hash.GetHashAndReset()).ToLowerInvariant();
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

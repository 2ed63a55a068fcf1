namespace Compress.Engine.Spec;

/// <summary>
/// What <c>compress run --spec</c> writes to <c>&lt;outputDirectory&gt;/&lt;name&gt;.report.json</c>, whether the gate
/// passed or not: the resolved options, how the rate was chosen, size, accuracy at every stage, ONNX Runtime latency,
/// the gate's verdict, the inputs' hashes and the time per phase. Accuracies are top-1 percent on the test split.
/// </summary>
public sealed record BuildReport
{
    /// <summary>Artifact base name.</summary>
    public required string Name { get; init; }
    /// <summary>Architecture.</summary>
    public required string Model { get; init; }
    /// <summary>The resolved spec (defaults filled in, absolute paths).</summary>
    public required BuildSpec Options { get; init; }
    /// <summary>Seed of the run.</summary>
    public required int Seed { get; init; }
    /// <summary>The prune rate and why it was chosen.</summary>
    public required RateReport Rate { get; init; }
    /// <summary>Parameters of the TorchSharp model (before compaction).</summary>
    public required long Parameters { get; init; }
    /// <summary>Parameters (initializer elements) of the written ONNX graph, after compaction.</summary>
    public required long ParametersOnnx { get; init; }
    /// <summary>Fraction of the TorchSharp model's parameters that are exactly zero after fine-tuning.</summary>
    public required double Sparsity { get; init; }
    /// <summary>Multiply-accumulates per image of the ONNX graph.</summary>
    public required long Macs { get; init; }
    /// <summary>Size of the ONNX file in bytes.</summary>
    public required long FileBytes { get; init; }
    /// <summary>Accuracy at every stage.</summary>
    public required AccuracyReport Accuracy { get; init; }
    /// <summary>ONNX Runtime latency at batch 1.</summary>
    public required LatencyReport Latency { get; init; }
    /// <summary>The accuracy gate's verdict.</summary>
    public required GateReport Gate { get; init; }
    /// <summary>Version of the engine that built the artifact.</summary>
    public required string EngineVersion { get; init; }
    /// <summary>SHA-256 of the spec, the weights and the data files (or <c>synthetic(...)</c>).</summary>
    public required IReadOnlyDictionary<string, string> Inputs { get; init; }
    /// <summary>Whether the baseline came from the cache (no training this run).</summary>
    public required bool BaselineCached { get; init; }
    /// <summary>
    /// The accepted ONNX, or the rejected one when the gate failed: a full path in memory; in the written report, like
    /// every path there, relative to the project (the spec's folder, or the MSBuild project's).
    /// </summary>
    public required string Onnx { get; init; }
    /// <summary>Seconds per phase.</summary>
    public required IReadOnlyDictionary<string, double> Seconds { get; init; }
    /// <summary>
    /// The unpruned model against the artifact, both as ONNX graphs (BatchNorm folded) measured the same way: MACs,
    /// parameters and ONNX Runtime batch-1 latency before and after with ratios, and per layer.
    /// </summary>
    public StructureReport? Structure { get; init; }
    /// <summary>Channel method: the plan as plain data, per channel group its layers, the channels kept and why none were
    /// removed (<see cref="Pruning.Channels.ChannelPlanFile"/> reads it back).</summary>
    public IReadOnlyList<Pruning.Channels.ChannelPlanEntry>? Channels { get; init; }
    /// <summary>Layerwise method: sparsity per weight, and the sensitivity proposal when it came from a scan.</summary>
    public IReadOnlyDictionary<string, double>? LayerSparsity { get; init; }
    /// <summary>Layerwise method with <c>sensitivity: auto</c>: the proposal (per layer sparsity, accuracy, reason).</summary>
    public Pruning.FineGrained.SparsityProposalResult? Proposal { get; init; }

    /// <summary>Dynamic method: the sparsity asked and reached, every mask update (units masked, units revived) and every
    /// epoch (sparsity, test accuracy, mean filter correlation).</summary>
    public Pruning.Dynamic.DynamicPruningReport? Dynamic { get; init; }

    /// <summary>The input contract written into the artifact (normalisation, channel order, size, resize, labels).</summary>
    public Data.Preprocessing? Preprocessing { get; init; }

    /// <summary>For an imported ONNX model: the file, its trainable and kept tensors, its constants.</summary>
    public Models.Onnx.ImportSummary? Import { get; init; }

    /// <summary>The cosine curve of the analysis (rate, cosine similarity), with the knee and the safe rate.</summary>
    public CurveReport? Curve { get; init; }

    /// <summary>Convolution and linear weights of the unpruned model and the artifact, binned alike.</summary>
    public HistogramReport? Histogram { get; init; }

    /// <summary>Layerwise method with <c>sensitivity: auto</c>: the scan (accuracy of each layer pruned alone at each sparsity).</summary>
    public Pruning.FineGrained.SensitivityResult? Sensitivity { get; init; }

    /// <summary><c>pruneRate: "auto"</c>: every trial of the search and what it chose.</summary>
    public SearchReport? Search { get; init; }

    /// <summary>Warnings about the artifact (code and text), also shown in the HTML and Markdown reports.</summary>
    public IReadOnlyList<WarningReport> Warnings { get; init; } = [];

    /// <summary>The plots drawn next to the intermediate files (relative to the project in the written report).</summary>
    public IReadOnlyList<string> Plots { get; init; } = [];

    /// <summary>
    /// Before (the unpruned model) and after (the artifact); ratios are before / after. Latencies are batch-1 medians
    /// of the two models timed alternately (one run each in turn, as <c>compress bench --baseline</c> does), so both
    /// see the same machine load.
    /// </summary>
    public sealed record StructureReport(long MacsBefore, long MacsAfter, double MacsRatio, long ParametersBefore,
        long ParametersAfter, double ParametersRatio, double LatencyBeforeMs, double LatencyAfterMs, double Speedup,
        IReadOnlyList<LayerReport> Layers)
    {
        /// <summary>Size of the unpruned model's ONNX file (exported the same way as the artifact).</summary>
        public long BytesBefore { get; init; }
        /// <summary>Size of the artifact.</summary>
        public long BytesAfter { get; init; }
        /// <summary>The unpruned file gzip-compressed (zeros compress: unstructured sparsity shows here, not in <see cref="BytesAfter"/>).</summary>
        public long GzipBytesBefore { get; init; }
        /// <summary>The artifact gzip-compressed.</summary>
        public long GzipBytesAfter { get; init; }
        /// <summary>Nonzero parameters (float initializer elements) of the unpruned file.</summary>
        public long NonzerosBefore { get; init; }
        /// <summary>Nonzero parameters of the artifact.</summary>
        public long NonzerosAfter { get; init; }
        /// <summary>Timed runs per model behind the latencies (after warm-up).</summary>
        public int LatencyRuns { get; init; }
        /// <summary>BytesBefore / BytesAfter.</summary>
        public double BytesRatio => BytesAfter > 0 ? (double)BytesBefore / BytesAfter : double.PositiveInfinity;
        /// <summary>GzipBytesBefore / GzipBytesAfter.</summary>
        public double GzipBytesRatio => GzipBytesAfter > 0 ? (double)GzipBytesBefore / GzipBytesAfter : double.PositiveInfinity;
    }

    /// <summary>One ONNX node (named after its module) before and after; after is null when the node is gone.</summary>
    public sealed record LayerReport(string Name, string OpType, long MacsBefore, long? MacsAfter, long ParametersBefore,
        long? ParametersAfter, IReadOnlyList<long> OutputShapeBefore, IReadOnlyList<long>? OutputShapeAfter)
    {
        /// <summary>Nonzero elements of the parameters the node reads, unpruned.</summary>
        public long NonzerosBefore { get; init; }
        /// <summary>Nonzero elements of the parameters the node reads in the artifact; null when the node is gone.</summary>
        public long? NonzerosAfter { get; init; }
    }

    /// <summary>The analysis' curve: cosine similarity of the globally L1-pruned parameters to the unpruned ones at each rate.</summary>
    public sealed record CurveReport(IReadOnlyList<double> Rates, IReadOnlyList<double> Cosine, double KneeRate, double KneeCosine, double SafeRate);

    /// <summary>
    /// Weight histogram: <paramref name="Before"/> and <paramref name="After"/> count the weights in equal bins over
    /// [-<paramref name="Limit"/>, <paramref name="Limit"/>]; the zeros are counted apart too.
    /// </summary>
    public sealed record HistogramReport(double Limit, IReadOnlyList<long> Before, IReadOnlyList<long> After, long ZerosBefore, long ZerosAfter);

    /// <summary>A warning the run raised about its result.</summary>
    public sealed record WarningReport(string Code, string Message);

    /// <summary>
    /// The rate search of <c>pruneRate: "auto"</c>: bisection between 0 and <paramref name="Upper"/> (the knee, or the
    /// channel ratio's ceiling) for the largest rate whose fine-tuned ONNX artifact passes the gate.
    /// </summary>
    public sealed record SearchReport(string Knob, double Upper, int MaxTrials, double? Chosen, IReadOnlyList<TrialReport> Trials);

    /// <summary>One trial: the rate, the artifact's ONNX accuracy, size and speedup, and whether it passed the gate (and why not).</summary>
    public sealed record TrialReport(int Trial, double Rate, double AccuracyOnnx, long Bytes, double Speedup, bool Passed, string? Reason, double Seconds);

    /// <summary>The prune rate applied and the analysis behind it.</summary>
    public sealed record RateReport(double Value, string Source, double Knee, double KurtosisOfKurtoses, double Modifier, double SafeRate);

    /// <summary>Unpruned, pruned, fine-tuned (TorchSharp) and ONNX Runtime accuracy of the artifact.</summary>
    public sealed record AccuracyReport(double Unpruned, double Pruned, double FineTuned, double Onnx);

    /// <summary>Median and 90th percentile in milliseconds over <paramref name="Runs"/> timed runs at batch <paramref name="Batch"/>.</summary>
    public sealed record LatencyReport(double P50Ms, double P90Ms, int Runs, int Batch, string Device);

    /// <summary>Whether the gate passed, its thresholds and why it failed (null when it passed).</summary>
    public sealed record GateReport(bool Passed, double? MinAccuracy, double? MaxAccuracyDrop, string? Reason)
    {
        /// <summary>Largest accepted drop in percent of the unpruned accuracy.</summary>
        public double? MaxRelativeAccuracyDrop { get; init; }
        /// <summary>Largest accepted size of the artifact in bytes.</summary>
        public long? MaxBytes { get; init; }
        /// <summary>Smallest accepted ONNX Runtime batch-1 speedup over the unpruned model.</summary>
        public double? MinSpeedup { get; init; }
    }
}

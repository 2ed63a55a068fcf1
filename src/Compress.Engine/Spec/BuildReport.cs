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
    /// <summary>Full path of the accepted ONNX, or of the rejected one when the gate failed.</summary>
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

    /// <summary>Before (the unpruned model) and after (the artifact); ratios are before / after.</summary>
    public sealed record StructureReport(long MacsBefore, long MacsAfter, double MacsRatio, long ParametersBefore,
        long ParametersAfter, double ParametersRatio, double LatencyBeforeMs, double LatencyAfterMs, double Speedup,
        IReadOnlyList<LayerReport> Layers);

    /// <summary>One ONNX node (named after its module) before and after; after is null when the node is gone.</summary>
    public sealed record LayerReport(string Name, string OpType, long MacsBefore, long? MacsAfter, long ParametersBefore,
        long? ParametersAfter, IReadOnlyList<long> OutputShapeBefore, IReadOnlyList<long>? OutputShapeAfter);

    /// <summary>The prune rate applied and the analysis behind it.</summary>
    public sealed record RateReport(double Value, string Source, double Knee, double KurtosisOfKurtoses, double Modifier, double SafeRate);

    /// <summary>Unpruned, pruned, fine-tuned (TorchSharp) and ONNX Runtime accuracy of the artifact.</summary>
    public sealed record AccuracyReport(double Unpruned, double Pruned, double FineTuned, double Onnx);

    /// <summary>Median and 90th percentile in milliseconds over <paramref name="Runs"/> timed runs at batch <paramref name="Batch"/>.</summary>
    public sealed record LatencyReport(double P50Ms, double P90Ms, int Runs, int Batch, string Device);

    /// <summary>Whether the gate passed, its thresholds and why it failed (null when it passed).</summary>
    public sealed record GateReport(bool Passed, double? MinAccuracy, double? MaxAccuracyDrop, string? Reason);
}

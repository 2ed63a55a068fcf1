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

    /// <summary>The prune rate applied and the analysis behind it.</summary>
    public sealed record RateReport(double Value, string Source, double Knee, double KurtosisOfKurtoses, double Modifier, double SafeRate);

    /// <summary>Unpruned, pruned, fine-tuned (TorchSharp) and ONNX Runtime accuracy of the artifact.</summary>
    public sealed record AccuracyReport(double Unpruned, double Pruned, double FineTuned, double Onnx);

    /// <summary>Median and 90th percentile in milliseconds over <paramref name="Runs"/> timed runs at batch <paramref name="Batch"/>.</summary>
    public sealed record LatencyReport(double P50Ms, double P90Ms, int Runs, int Batch, string Device);

    /// <summary>Whether the gate passed, its thresholds and why it failed (null when it passed).</summary>
    public sealed record GateReport(bool Passed, double? MinAccuracy, double? MaxAccuracyDrop, string? Reason);
}

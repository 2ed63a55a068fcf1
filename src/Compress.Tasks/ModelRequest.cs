namespace Compress.Tasks;

/// <summary>One CompressModel item after validation: absolute paths and parsed values, ready to become a spec.</summary>
internal sealed class ModelRequest
{
    /// <summary>The item as written in the project (for messages).</summary>
    public string ItemSpec { get; set; } = string.Empty;
    /// <summary>Absolute path of the weights file or the spec.</summary>
    public string InputPath { get; set; } = string.Empty;
    /// <summary>True when the item is a spec (.json) that is passed through unchanged.</summary>
    public bool IsSpec { get; set; }
    /// <summary>True when the item is an ONNX model (the spec names it as the model; its weights come with it).</summary>
    public bool IsOnnx { get; set; }
    /// <summary>Input normalisation as the user wrote it, or null.</summary>
    public string? Normalize { get; set; }
    /// <summary>Whether to embed the normalisation in the artifact, or null.</summary>
    public bool? EmbedPreprocessing { get; set; }
    /// <summary>Output name (outputs are &lt;Name&gt;.onnx and &lt;Name&gt;.report.json).</summary>
    public string Name { get; set; } = string.Empty;
    /// <summary>Architecture name as the engine knows it; the engine validates the name itself.</summary>
    public string? Architecture { get; set; }
    /// <summary>Width multiplier, or null for the engine's default.</summary>
    public double? WidthMultiplier { get; set; }
    /// <summary>Class count, or null.</summary>
    public int? Classes { get; set; }
    /// <summary>Absolute data folder or file, "synthetic", or null.</summary>
    public string? Data { get; set; }
    /// <summary>Prune rate as a number, or null when <see cref="PruneRateKeyword"/> is set or neither is.</summary>
    public double? PruneRate { get; set; }
    /// <summary>"knee", "safe" or "auto", or null.</summary>
    public string? PruneRateKeyword { get; set; }
    /// <summary>Fine-tuning epochs, or null.</summary>
    public int? FineTuneEpochs { get; set; }
    /// <summary>Minimum accuracy in percent, or null.</summary>
    public double? MinAccuracy { get; set; }
    /// <summary>Largest accepted accuracy drop in percentage points, or null.</summary>
    public double? MaxAccuracyDrop { get; set; }
    /// <summary>Largest accepted accuracy drop in percent of the unpruned accuracy, or null.</summary>
    public double? MaxRelativeAccuracyDrop { get; set; }
    /// <summary>Largest accepted artifact size in bytes, or null.</summary>
    public long? MaxBytes { get; set; }
    /// <summary>Smallest accepted ONNX Runtime speedup, or null.</summary>
    public double? MinSpeedup { get; set; }
    /// <summary>Trials of the PruneRate="auto" search, or null.</summary>
    public int? MaxTrials { get; set; }
    /// <summary>cpu, cuda or auto, or null.</summary>
    public string? Device { get; set; }
    /// <summary>Seed, or null.</summary>
    public int? Seed { get; set; }
    /// <summary>Thread count, or null.</summary>
    public int? Threads { get; set; }
    /// <summary>global, unstructured, channel or layerwise, or null (the engine's default, global).</summary>
    public string? Method { get; set; }
    /// <summary>Unstructured method: magnitude, gradient or random, or null.</summary>
    public string? Criterion { get; set; }
    /// <summary>Unstructured method: global or layer, or null.</summary>
    public string? Scope { get; set; }
    /// <summary>Unstructured method: prune the classifier too, or null.</summary>
    public bool? IncludeClassifier { get; set; }
    /// <summary>Gradient criterion: training images, or null.</summary>
    public int? GradientImages { get; set; }
    /// <summary>one-shot or iterative, or null.</summary>
    public string? Schedule { get; set; }
    /// <summary>Iterative schedule: steps, or null.</summary>
    public int? Steps { get; set; }
    /// <summary>Iterative schedule: linear, cubic or geometric, or null.</summary>
    public string? ScheduleShape { get; set; }
    /// <summary>Iterative schedule: fine-tuning epochs between steps, or null.</summary>
    public int? EpochsBetween { get; set; }
    /// <summary>Dynamic method: unstructured or filter, or null.</summary>
    public string? DynamicPrune { get; set; }
    /// <summary>Dynamic method: the final sparsity, or null.</summary>
    public double? TargetSparsity { get; set; }
    /// <summary>Dynamic filter pruning: normalized or raw, or null.</summary>
    public string? FilterRanking { get; set; }
    /// <summary>Dynamic method: steps between mask updates, or null.</summary>
    public int? MaskInterval { get; set; }
    /// <summary>Dynamic method: fraction of training at which the target is reached, or null.</summary>
    public double? RampEnd { get; set; }
    /// <summary>Decorrelation regulariser weight, or null.</summary>
    public double? Decorrelation { get; set; }
    /// <summary>pearson or literal, or null.</summary>
    public string? DecorrelationVariant { get; set; }
    /// <summary>auto, nchw or channels-last, or null.</summary>
    public string? MemoryFormat { get; set; }
    /// <summary>float32 or bfloat16, or null.</summary>
    public string? Precision { get; set; }
    /// <summary>Uniform channel ratio, or null.</summary>
    public double? ChannelRatio { get; set; }
    /// <summary>Per-layer channel ratios (producer conv name to ratio), or null.</summary>
    public IReadOnlyList<KeyValuePair<string, double>>? ChannelLayerRatios { get; set; }
    /// <summary>l2, l1 or naive, or null.</summary>
    public string? Ranking { get; set; }
    /// <summary>Layers whose channels are never pruned, or null.</summary>
    public IReadOnlyList<string>? IgnoredLayers { get; set; }
    /// <summary>Absolute path of a per-layer sparsity JSON file, or null.</summary>
    public string? Sparsity { get; set; }
    /// <summary>"auto", or null.</summary>
    public string? Sensitivity { get; set; }
    /// <summary>Fraction of the parameters to keep (layerwise with a sensitivity scan), or null.</summary>
    public double? TargetSize { get; set; }
}

using Compress.Engine.Models;

namespace Compress.Engine.Spec;

/// <summary>
/// A resolved <c>compress run --spec</c> file: every default filled in and every path made absolute against the spec
/// file's folder. The build step (<c>dotnet build</c> through the MSBuild task) describes one artifact with it.
/// </summary>
public sealed record BuildSpec
{
    /// <summary>Full path of the spec file.</summary>
    public required string SpecPath { get; init; }

    /// <summary>Artifact base name: <c>&lt;name&gt;.onnx</c> and <c>&lt;name&gt;.report.json</c>. Default: the spec file's name.</summary>
    public required string Name { get; init; }

    /// <summary>
    /// Whether <paramref name="name"/> can name the artifacts on every platform: not empty, no control character, none
    /// of Windows' reserved <c>&lt;&gt;:"/\|?*</c>, not <c>.</c> or <c>..</c>, no trailing dot or space.
    /// </summary>
    public static bool IsValidName(string name) =>
        !string.IsNullOrWhiteSpace(name) && name is not ("." or "..") && !name.EndsWith('.') && !name.EndsWith(' ') && name.Length <= 200
        && !name.Any(c => char.IsControl(c) || c is '<' or '>' or ':' or '"' or '/' or '\\' or '|' or '?' or '*' or '\u2028' or '\u2029');

    /// <summary>Architecture, width and classes. Default resnet18-cifar at width 0.25, 10 classes (as <c>compress run</c>).</summary>
    public ModelOptions Model { get; init; } = new() { Architecture = "resnet18-cifar", WidthMultiplier = 0.25 };

    /// <summary>Baseline weights (absolute); null means train a baseline (cached in <see cref="CacheDirectory"/>).</summary>
    public string? Weights { get; init; }

    /// <summary><c>synthetic</c> (default) or an absolute dataset folder.</summary>
    public string Data { get; init; } = "synthetic";

    /// <summary>Training images of the synthetic dataset (default 10,000).</summary>
    public int SyntheticTrain { get; init; } = 10_000;

    /// <summary>Input normalisation (<c>normalize</c>): null for the default (<see cref="Pipeline.DataOptions.Normalize"/>).</summary>
    public Data.NormalizationChoice? Normalize { get; init; }

    /// <summary>Write the normalisation into the artifact as Sub and Div nodes (<c>embedPreprocessing</c>), so it takes raw
    /// pixels 0 to 255; default false.</summary>
    public bool EmbedPreprocessing { get; init; }

    /// <summary>Test images of the synthetic dataset (default 2,000).</summary>
    public int SyntheticTest { get; init; } = 2_000;

    /// <summary>
    /// A number in [0, 1], <c>knee</c>, <c>safe</c> (default) or <c>auto</c>: the largest rate (channel method: ratio;
    /// dynamic: target sparsity) whose fine-tuned ONNX artifact passes the gate, found by bisection in at most
    /// <see cref="MaxTrials"/> trials.
    /// </summary>
    public string PruneRate { get; init; } = "safe";

    /// <summary><c>pruneRate: "auto"</c>: trials of the search, each a prune, fine-tune and ONNX evaluation (default 6).</summary>
    public int MaxTrials { get; init; } = 6;

    /// <summary>
    /// How to prune: <c>global</c> (default: the paper's global L1 magnitude pruning at <see cref="PruneRate"/>),
    /// <c>unstructured</c> (the conv and linear weights by <see cref="Criterion"/> and <see cref="Scope"/> at
    /// <see cref="PruneRate"/>, on <see cref="Schedule"/>),
    /// <c>channel</c> (structured: whole channels removed, <see cref="ChannelRatio"/>, <see cref="Ranking"/>) or
    /// <c>layerwise</c> (fine-grained magnitude pruning with a per-layer sparsity from <see cref="Sparsity"/> or a
    /// sensitivity scan with <see cref="TargetSize"/>) or <c>dynamic</c> (pruned while fine-tuning, with feedback:
    /// <see cref="DynamicPrune"/>, <see cref="TargetSparsity"/>).
    /// </summary>
    public string Method { get; init; } = "global";

    /// <summary>Unstructured method: <c>magnitude</c> (default), <c>gradient</c> or <c>random</c>.</summary>
    public string Criterion { get; init; } = "magnitude";

    /// <summary>Unstructured method: <c>global</c> (default) or <c>layer</c>.</summary>
    public string Scope { get; init; } = "global";

    /// <summary>Unstructured method: also prune the classifier (default false).</summary>
    public bool IncludeClassifier { get; init; }

    /// <summary>Unstructured method, gradient criterion: training images read (default 128).</summary>
    public int GradientImages { get; init; } = Pruning.Importance.GradientCollector.DefaultImages;

    /// <summary>Unstructured method: <c>one-shot</c> (default) or <c>iterative</c>.</summary>
    public string Schedule { get; init; } = "one-shot";

    /// <summary>Iterative schedule: steps (default 5).</summary>
    public int Steps { get; init; } = 5;

    /// <summary>Iterative schedule: <c>linear</c> (default), <c>cubic</c> or <c>geometric</c>.</summary>
    public string ScheduleShape { get; init; } = "linear";

    /// <summary>Iterative schedule: fine-tuning epochs between steps (default 1).</summary>
    public int EpochsBetween { get; init; } = 1;

    /// <summary>Dynamic method: <c>unstructured</c> (default: single weights) or <c>filter</c> (whole filters, compacted).</summary>
    public string DynamicPrune { get; init; } = "unstructured";

    /// <summary>Dynamic method: the final sparsity (filter: of the prunable filters; unstructured: of the conv and linear
    /// weights). Null: <see cref="PruneRate"/> for unstructured; filter needs it.</summary>
    public double? TargetSparsity { get; init; }

    /// <summary>Dynamic filter pruning: <c>normalized</c> (default) or <c>raw</c> ranking of filters across layers.</summary>
    public string FilterRanking { get; init; } = "normalized";

    /// <summary>Dynamic method: steps between mask updates (default 16).</summary>
    public int MaskInterval { get; init; } = 16;

    /// <summary>Dynamic method: fraction of the fine-tuning at which the target is reached (default 0.75).</summary>
    public double RampEnd { get; init; } = 0.75;

    /// <summary>Weight alpha of the decorrelation regulariser added to the fine-tuning loss (default 0 = off); any method.</summary>
    public double Decorrelation { get; init; }

    /// <summary><c>pearson</c> (default) or <c>literal</c> (the source project's version, for comparison only).</summary>
    public string DecorrelationVariant { get; init; } = "pearson";

    /// <summary>Channel method: the fraction of each prunable group's channels removed (default 0.3).</summary>
    public double ChannelRatio { get; init; } = 0.3;

    /// <summary>Channel method: per-layer ratios (producer conv name to ratio) overriding <see cref="ChannelRatio"/>.</summary>
    public IReadOnlyDictionary<string, double>? ChannelLayerRatios { get; init; }

    /// <summary>Channel method: kept widths rounded to a multiple of this (default 1 = the exact ratio; 8 suits CPU kernels).</summary>
    public int ChannelRoundTo { get; init; } = 1;

    /// <summary>Channel method: <c>l2</c> (default), <c>l1</c> or <c>naive</c> (keep the first channels).</summary>
    public string Ranking { get; init; } = "l2";

    /// <summary>Channel method: rank channels of all groups together instead of each group alone (default false).</summary>
    public bool GlobalRanking { get; init; }

    /// <summary>Channel method: conv layers whose output channels are never pruned.</summary>
    public IReadOnlyList<string> IgnoredLayers { get; init; } = [];

    /// <summary>Layerwise method: sparsity per weight (parameter name to fraction zeroed), from the spec or a file.</summary>
    public IReadOnlyDictionary<string, double>? Sparsity { get; init; }

    /// <summary>The JSON file <see cref="Sparsity"/> was read from (absolute), or null when the spec wrote it inline.</summary>
    public string? SparsityFile { get; init; }

    /// <summary>Layerwise method: <c>auto</c> runs a sensitivity scan and proposes the sparsities; null = use <see cref="Sparsity"/>.</summary>
    public string? Sensitivity { get; init; }

    /// <summary>Layerwise method with <c>sensitivity: auto</c>: fraction of the prunable weights to keep (default 0.5).</summary>
    public double TargetSize { get; init; } = 0.5;

    /// <summary>Layerwise method with <c>sensitivity: auto</c>: the largest accuracy drop (points) a layer may cause alone (default 2).</summary>
    public double SensitivityMaxDrop { get; init; } = 2.0;

    /// <summary>Epochs of masked fine-tuning with the paper's recipe (default 1; 0 skips fine-tuning).</summary>
    public int FineTuneEpochs { get; init; } = 1;

    /// <summary>Epochs of the baseline recipe when no weights are given (default 5, TrainingOptions.CifarBaseline).</summary>
    public int BaselineEpochs { get; init; } = 5;

    /// <summary>Gate: the ONNX artifact's accuracy (percent) must be at least this; null means no floor.</summary>
    public double? MinAccuracy { get; init; }

    /// <summary>Gate: unpruned minus ONNX accuracy (percentage points) must be at most this; null means no limit.</summary>
    public double? MaxAccuracyDrop { get; init; }

    /// <summary>Gate: the accuracy drop in percent of the unpruned accuracy must be at most this; null means no limit.</summary>
    public double? MaxRelativeAccuracyDrop { get; init; }

    /// <summary>Gate: the artifact's file must be at most this many bytes; null means no limit.</summary>
    public long? MaxBytes { get; init; }

    /// <summary>Gate: the artifact must be at least this much faster than the unpruned model in ONNX Runtime (batch-1
    /// median, timed alternately); null means no limit.</summary>
    public double? MinSpeedup { get; init; }

    /// <summary>
    /// The folder the reports' paths are relative to: the MSBuild project's (the build step passes it), else the spec's.
    /// Not written to the report.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public string? ProjectDirectory { get; init; }

    /// <summary><c>cpu</c> (default), <c>cuda</c> or <c>auto</c>.</summary>
    public string Device { get; init; } = "cpu";

    /// <summary>Seed of initialisation, shuffling and augmentation (default 0).</summary>
    public int Seed { get; init; }

    /// <summary>libtorch threads (default 0 = libtorch's choice).</summary>
    public int Threads { get; init; }

    /// <summary>Memory format of baseline training and fine-tuning: <c>auto</c> (default), <c>nchw</c> or
    /// <c>channels-last</c> (<see cref="Training.MemoryFormat"/>).</summary>
    public string MemoryFormat { get; init; } = "auto";

    /// <summary>Precision of baseline training and fine-tuning: <c>float32</c> (default) or <c>bfloat16</c> (mixed,
    /// float32 master weights; <see cref="Training.TrainingPrecision"/>).</summary>
    public string Precision { get; init; } = "float32";

    /// <summary>Where the accepted ONNX and the report go (absolute; default <c>bin/compress</c>).</summary>
    public required string OutputDirectory { get; init; }

    /// <summary>Where the rejected ONNX and temporary artifacts go (absolute; default <c>obj/compress</c>).</summary>
    public required string IntermediateDirectory { get; init; }

    /// <summary>Where trained baselines are cached by a hash of their inputs (absolute; default <c>obj/compress/cache</c>).</summary>
    public required string CacheDirectory { get; init; }

    /// <summary>
    /// Write the output, intermediate and cache folders the spec names even outside the spec's folder and the project
    /// (<c>allowOutputOutsideProject</c>, or <c>run --allow-output-outside-project</c>); default false: CMP0626.
    /// </summary>
    public bool AllowOutputOutsideProject { get; init; }

    /// <summary>The folder keys the command line replaced (they are the caller's choice, not the spec's). Not written.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public IReadOnlyList<string> Overridden { get; init; } = [];

    /// <summary>Where each key was found in the file (dotted key, e.g. <c>model.classes</c>), for diagnostics.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public IReadOnlyDictionary<string, SpecLocation> Locations { get; init; } = new Dictionary<string, SpecLocation>();

    /// <summary>The location of <paramref name="key"/>, or null when the key was not written in the file.</summary>
    public SpecLocation? LocationOf(string key) => Locations.TryGetValue(key, out var l) ? l : null;

    /// <summary>
    /// The same spec with the build step's placement: <paramref name="name"/>, <paramref name="outputDirectory"/> and
    /// <paramref name="intermediateDirectory"/> replace the spec's values when given (relative paths against the current
    /// folder). The cache follows <paramref name="cacheDirectory"/> when given, else the intermediate folder; a
    /// <c>cacheDirectory</c> the spec sets itself wins over both.
    /// </summary>
    public BuildSpec WithOverrides(string? name, string? outputDirectory, string? intermediateDirectory, string? cacheDirectory = null)
    {
        var result = this;
        if (!string.IsNullOrWhiteSpace(name)) result = result with { Name = name };
        if (!string.IsNullOrWhiteSpace(outputDirectory))
            result = result with { OutputDirectory = Path.GetFullPath(outputDirectory), Overridden = [.. result.Overridden, "outputDirectory"] };
        if (!string.IsNullOrWhiteSpace(intermediateDirectory))
        {
            string full = Path.GetFullPath(intermediateDirectory);
            result = result with { IntermediateDirectory = full, Overridden = [.. result.Overridden, "intermediateDirectory"] };
            if (LocationOf("cacheDirectory") is null) result = result with { CacheDirectory = Path.Combine(full, "cache") };
        }
        if (!string.IsNullOrWhiteSpace(cacheDirectory) && LocationOf("cacheDirectory") is null)
            result = result with { CacheDirectory = Path.GetFullPath(cacheDirectory) };
        return result;
    }
}

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

    /// <summary>Architecture, width and classes. Default resnet18-cifar at width 0.25, 10 classes (as <c>compress run</c>).</summary>
    public ModelOptions Model { get; init; } = new() { Architecture = "resnet18-cifar", WidthMultiplier = 0.25 };

    /// <summary>Baseline weights (absolute); null means train a baseline (cached in <see cref="CacheDirectory"/>).</summary>
    public string? Weights { get; init; }

    /// <summary><c>synthetic</c> (default) or an absolute dataset folder.</summary>
    public string Data { get; init; } = "synthetic";

    /// <summary>Training images of the synthetic dataset (default 10,000).</summary>
    public int SyntheticTrain { get; init; } = 10_000;

    /// <summary>Test images of the synthetic dataset (default 2,000).</summary>
    public int SyntheticTest { get; init; } = 2_000;

    /// <summary>A number in [0, 1], <c>knee</c> or <c>safe</c> (default).</summary>
    public string PruneRate { get; init; } = "safe";

    /// <summary>Epochs of masked fine-tuning with the paper's recipe (default 1; 0 skips fine-tuning).</summary>
    public int FineTuneEpochs { get; init; } = 1;

    /// <summary>Epochs of the baseline recipe when no weights are given (default 5, TrainingOptions.CifarBaseline).</summary>
    public int BaselineEpochs { get; init; } = 5;

    /// <summary>Gate: the ONNX artifact's accuracy (percent) must be at least this; null means no floor.</summary>
    public double? MinAccuracy { get; init; }

    /// <summary>Gate: unpruned minus ONNX accuracy (percentage points) must be at most this; null means no limit.</summary>
    public double? MaxAccuracyDrop { get; init; }

    /// <summary><c>cpu</c> (default), <c>cuda</c> or <c>auto</c>.</summary>
    public string Device { get; init; } = "cpu";

    /// <summary>Seed of initialisation, shuffling and augmentation (default 0).</summary>
    public int Seed { get; init; }

    /// <summary>libtorch threads (default 0 = libtorch's choice).</summary>
    public int Threads { get; init; }

    /// <summary>Where the accepted ONNX and the report go (absolute; default <c>bin/compress</c>).</summary>
    public required string OutputDirectory { get; init; }

    /// <summary>Where the rejected ONNX and temporary artifacts go (absolute; default <c>obj/compress</c>).</summary>
    public required string IntermediateDirectory { get; init; }

    /// <summary>Where trained baselines are cached by a hash of their inputs (absolute; default <c>obj/compress/cache</c>).</summary>
    public required string CacheDirectory { get; init; }

    /// <summary>Where each key was found in the file (dotted key, e.g. <c>model.classes</c>), for diagnostics.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public IReadOnlyDictionary<string, SpecLocation> Locations { get; init; } = new Dictionary<string, SpecLocation>();

    /// <summary>The location of <paramref name="key"/>, or null when the key was not written in the file.</summary>
    public SpecLocation? LocationOf(string key) => Locations.TryGetValue(key, out var l) ? l : null;

    /// <summary>
    /// The same spec with the build step's placement: <paramref name="name"/>, <paramref name="outputDirectory"/> and
    /// <paramref name="intermediateDirectory"/> replace the spec's values when given (relative paths against the current
    /// folder); the cache follows the intermediate folder unless the spec set <c>cacheDirectory</c> itself.
    /// </summary>
    public BuildSpec WithOverrides(string? name, string? outputDirectory, string? intermediateDirectory)
    {
        var result = this;
        if (!string.IsNullOrWhiteSpace(name)) result = result with { Name = name };
        if (!string.IsNullOrWhiteSpace(outputDirectory)) result = result with { OutputDirectory = Path.GetFullPath(outputDirectory) };
        if (!string.IsNullOrWhiteSpace(intermediateDirectory))
        {
            string full = Path.GetFullPath(intermediateDirectory);
            result = result with
            {
                IntermediateDirectory = full,
                CacheDirectory = LocationOf("cacheDirectory") is null ? Path.Combine(full, "cache") : CacheDirectory,
            };
        }
        return result;
    }
}

using System.Globalization;
using Compress.Engine.Diagnostics;

namespace Compress.Engine.Pruning.Dynamic;

/// <summary>What dynamic pruning with feedback masks.</summary>
public enum DynamicPruningVariant
{
    /// <summary>Single weights by magnitude, global over the conv and linear weights (classifier excluded by default).</summary>
    Unstructured,

    /// <summary>Whole output filters by mean |w|, one global ranking over the prunable channel groups; the result is
    /// compacted by channel surgery.</summary>
    Filter,
}

/// <summary>How the filter variant ranks filters of different layers against each other.</summary>
public enum FilterRanking
{
    /// <summary>
    /// Each filter's mean |w| divided by the mean over its channel group, then one global ranking (the channel method's
    /// global ranking rule). Layers with a large fan-in have small weights; this keeps them from being emptied first.
    /// The default.
    /// </summary>
    Normalized,

    /// <summary>The raw mean |w| in one global ranking. On ResNet-56 it empties the last stage (2 of 32 channels left
    /// at 60%); kept for comparison.</summary>
    Raw,
}

/// <summary>Options of <see cref="DynamicPruning"/>.</summary>
public sealed record DynamicPruningOptions
{
    /// <summary>What is masked. Default unstructured.</summary>
    public DynamicPruningVariant Variant { get; init; }

    /// <summary>
    /// The final sparsity: for <see cref="DynamicPruningVariant.Unstructured"/> the fraction of the weights in scope,
    /// for <see cref="DynamicPruningVariant.Filter"/> the fraction of the prunable filters (channels). In [0, 1).
    /// </summary>
    public double Target { get; init; } = 0.5;

    /// <summary>Steps between mask updates (F). Default 16.</summary>
    public int MaskInterval { get; init; } = 16;

    /// <summary>Fraction of training at which the ramp reaches the target; the mask is frozen after it. Default 0.75.</summary>
    public double RampEnd { get; init; } = 0.75;

    /// <summary>Unstructured: also mask the classifier (the last linear layer). Default false.</summary>
    public bool IncludeClassifier { get; init; }

    /// <summary>Filter: how filters of different groups are ranked against each other. Default normalized.</summary>
    public FilterRanking FilterRanking { get; init; }

    /// <summary>
    /// Filter: each group keeps a multiple of this many channels (at least this many, at most all), the most important
    /// ones, so the compacted widths suit the CPU kernels' blocks (8 or 16). Default 1 (exactly what the ranking keeps).
    /// </summary>
    public int RoundTo { get; init; } = 1;

    /// <summary>Filter: layers whose channel groups are left whole (module names). Default none.</summary>
    public IReadOnlyList<string> IgnoredLayers { get; init; } = [];

    /// <summary>Checks the values (CMP0709).</summary>
    public void Validate()
    {
        if (!Enum.IsDefined(Variant)) throw Invalid($"unknown variant {(int)Variant}", "Use unstructured or filter.");
        if (!Enum.IsDefined(FilterRanking)) throw Invalid($"unknown filter ranking {(int)FilterRanking}", "Use normalized or raw.");
        if (double.IsNaN(Target) || Target < 0 || Target >= 1)
            throw Invalid($"the target sparsity is {Target.ToString("R", CultureInfo.InvariantCulture)}, outside [0, 1)",
                Variant == DynamicPruningVariant.Filter
                    ? "Give the fraction of prunable filters to mask, e.g. 0.6."
                    : "Give the fraction of conv and linear weights to mask, e.g. 0.9.");
        if (RoundTo < 1)
            throw Invalid($"round-to is {RoundTo.ToString(CultureInfo.InvariantCulture)}", "Use 1 (no rounding), or 8 / 16 for CPU kernels.");
        if (MaskInterval < 1)
            throw Invalid($"the mask interval is {MaskInterval.ToString(CultureInfo.InvariantCulture)}", "Use 1 or more steps between mask updates (default 16).");
        if (!(RampEnd > 0 && RampEnd <= 1))
            throw Invalid($"the ramp end is {RampEnd.ToString("R", CultureInfo.InvariantCulture)}, outside (0, 1]",
                "Give the fraction of training after which the sparsity stays at the target (default 0.75).");
        if (IgnoredLayers is null) throw new ArgumentException("IgnoredLayers must not be null.", nameof(IgnoredLayers));
    }

    private static CompressException Invalid(string what, string hint) =>
        new(DiagnosticCode.InvalidDynamicPruningOption, $"Invalid dynamic pruning option: {what}.", hint: hint);
}

using Compress.Engine.Training;

namespace Compress.Engine.Pruning.Dynamic;

/// <summary>What a run of dynamic pruning did, as plain data for results and reports.</summary>
/// <param name="Variant"><c>unstructured</c> or <c>filter</c>.</param>
/// <param name="Target">Target sparsity (fraction of <paramref name="Unit"/> in scope).</param>
/// <param name="Unit"><c>weights</c> or <c>filters</c>.</param>
/// <param name="Units">Units in scope.</param>
/// <param name="Masked">Units masked at the end.</param>
/// <param name="MaskInterval">Steps between mask updates.</param>
/// <param name="RampEnd">Fraction of training at which the target was reached.</param>
/// <param name="Decorrelation">Weight alpha of the decorrelation regulariser (0 = off).</param>
/// <param name="DecorrelationVariant"><c>pearson</c> or <c>literal</c>.</param>
/// <param name="Revived">Units that came back, summed over every update.</param>
/// <param name="Updates">Every mask update.</param>
/// <param name="Epochs">Every epoch's end: sparsity, test accuracy of m (.) W, mean off-diagonal |r| of the filters.</param>
public sealed record DynamicPruningReport(string Variant, double Target, string Unit, long Units, long Masked, int MaskInterval,
    double RampEnd, double Decorrelation, string DecorrelationVariant, long Revived, IReadOnlyList<DynamicMaskUpdate> Updates,
    IReadOnlyList<DynamicEpoch> Epochs)
{
    /// <summary>Filter variant: <c>normalized</c> or <c>raw</c> ranking; null for unstructured.</summary>
    public string? FilterRanking { get; init; }

    /// <summary>Masked / Units.</summary>
    public double Sparsity => Units == 0 ? 0 : (double)Masked / Units;

    /// <summary>The report of <paramref name="pruning"/> after training with <paramref name="training"/>.</summary>
    public static DynamicPruningReport Of(DynamicPruning pruning, TrainingOptions training)
    {
        ArgumentNullException.ThrowIfNull(pruning);
        ArgumentNullException.ThrowIfNull(training);
        return new DynamicPruningReport(PruningNames.NameOf(pruning.Options.Variant), pruning.Options.Target, pruning.Unit,
            pruning.Units, pruning.MaskedUnits, pruning.Options.MaskInterval, pruning.Options.RampEnd, training.Decorrelation,
            PruningNames.NameOf(training.DecorrelationVariant), pruning.Updates.Sum(u => u.Revived),
            [.. pruning.Updates], [.. pruning.Epochs])
        {
            FilterRanking = pruning.Options.Variant == DynamicPruningVariant.Filter
                ? PruningNames.NameOf(pruning.Options.FilterRanking)
                : null,
        };
    }
}

using System.Globalization;
using Compress.Engine.Analysis;

namespace Compress.Engine.Pruning;

/// <summary>
/// A prune rate as the user gave it: a number, or <c>knee</c> / <c>safe</c>, which only an analysis can turn into a
/// number. Made by <see cref="PruneRateParser.Parse"/>.
/// </summary>
/// <param name="Kind">Fixed, knee or safe.</param>
/// <param name="Value">The rate for <see cref="PruneRateKind.Fixed"/>; null otherwise.</param>
public sealed record PruneRateSpec(PruneRateKind Kind, double? Value)
{
    /// <summary>True when the rate needs a <see cref="PruneAnalysis"/> to be known.</summary>
    public bool NeedsAnalysis => Kind != PruneRateKind.Fixed;

    /// <summary>The rate: the fixed value, or the knee or safe rate of <paramref name="analysis"/>.</summary>
    public double Resolve(PruneAnalysis? analysis) => Kind switch
    {
        PruneRateKind.Fixed => Value ?? throw new InvalidOperationException("A fixed prune rate has no value."),
        PruneRateKind.Knee => (analysis ?? throw new ArgumentNullException(nameof(analysis), "'knee' needs an analysis.")).Knee.Rate,
        PruneRateKind.Safe => (analysis ?? throw new ArgumentNullException(nameof(analysis), "'safe' needs an analysis.")).SafeRate,
        _ => throw new InvalidOperationException($"Unknown prune rate kind {Kind}."),
    };

    /// <summary>The text form <see cref="PruneRateParser.Parse"/> reads back: <c>0.5</c>, <c>knee</c> or <c>safe</c>.</summary>
    public override string ToString() => Kind switch
    {
        PruneRateKind.Fixed => (Value ?? double.NaN).ToString("R", CultureInfo.InvariantCulture),
        PruneRateKind.Knee => "knee",
        _ => "safe",
    };
}

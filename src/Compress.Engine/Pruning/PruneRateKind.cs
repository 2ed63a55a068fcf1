namespace Compress.Engine.Pruning;

/// <summary>What a <see cref="PruneRateSpec"/> asks for.</summary>
public enum PruneRateKind
{
    /// <summary>A fixed rate in [0, 1].</summary>
    Fixed,

    /// <summary>The knee of the cosine curve (<c>PruneAnalysis.Knee.Rate</c>).</summary>
    Knee,

    /// <summary>The kurtosis-adjusted safe rate (<c>PruneAnalysis.SafeRate</c>).</summary>
    Safe,
}

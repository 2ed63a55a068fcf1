namespace Compress.Engine.Analysis;

/// <summary>Options for <see cref="PruneAnalyzer.Analyze"/>.</summary>
public sealed record AnalysisOptions
{
    /// <summary>
    /// When true, zero-variance tensors (whose kurtosis is undefined) are an error (CMP0302) instead of a warning.
    /// Default false: they are left out of the kurtosis of kurtoses and named in the result, as an untrained
    /// BatchNorm (gamma all ones, beta all zeros) would otherwise make the paper's code produce NaN.
    /// </summary>
    public bool Strict { get; init; }

    /// <summary>Which implementation computes the numbers. Default <see cref="AnalysisBackend.Auto"/>.</summary>
    public AnalysisBackend Backend { get; init; } = AnalysisBackend.Auto;
}

namespace Compress.Engine.Analysis;

/// <summary>
/// What both backends compute from the parameter vector: the kept sum of squares at each pruned count, the total,
/// and per-tensor central moment sums for the kurtosis.
/// </summary>
/// <param name="KeptSumSquares">Σ w² over the entries that survive pruning k entries, for each requested k.</param>
/// <param name="TotalSumSquares">Σ w² over the whole vector.</param>
/// <param name="CentralSum2">Σ (x - mean)² per tensor.</param>
/// <param name="CentralSum4">Σ (x - mean)⁴ per tensor.</param>
internal sealed record ParameterStatistics(double[] KeptSumSquares, double TotalSumSquares, double[] CentralSum2,
    double[] CentralSum4);

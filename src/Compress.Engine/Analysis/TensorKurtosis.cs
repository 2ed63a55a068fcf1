namespace Compress.Engine.Analysis;

/// <summary>Pearson kurtosis (m4 / m2², population moments, not excess) of one parameter tensor.</summary>
/// <param name="Name">Parameter name, e.g. <c>conv1.weight</c>.</param>
/// <param name="Count">Number of elements.</param>
/// <param name="Kurtosis">m4 / m2², as <c>scipy.stats.kurtosis(x, fisher=False)</c>.</param>
public sealed record TensorKurtosis(string Name, long Count, double Kurtosis);

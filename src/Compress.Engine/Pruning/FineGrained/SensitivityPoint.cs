namespace Compress.Engine.Pruning.FineGrained;

/// <summary>One measurement of a sensitivity scan: a single layer pruned to <paramref name="Sparsity"/>, all others dense.</summary>
/// <param name="Sparsity">The sparsity asked for.</param>
/// <param name="PrunedCount">Entries actually zeroed: <c>round(n × sparsity)</c> plus ties at the threshold.</param>
/// <param name="Accuracy">Top-1 test accuracy in percent, [0, 100].</param>
/// <param name="Loss">Mean cross-entropy on the same images.</param>
public sealed record SensitivityPoint(double Sparsity, long PrunedCount, double Accuracy, double Loss);

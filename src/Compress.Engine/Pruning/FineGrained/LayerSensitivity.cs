namespace Compress.Engine.Pruning.FineGrained;

/// <summary>How test accuracy responds when one weight tensor alone is pruned at each scanned sparsity.</summary>
/// <param name="Name">The parameter name, e.g. <c>layer1.0.conv1.weight</c>.</param>
/// <param name="Shape">Its shape, e.g. <c>[64, 64, 3, 3]</c>.</param>
/// <param name="ParameterCount">Its element count.</param>
/// <param name="Points">One point per scanned sparsity, ascending.</param>
public sealed record LayerSensitivity(string Name, IReadOnlyList<long> Shape, long ParameterCount, IReadOnlyList<SensitivityPoint> Points);

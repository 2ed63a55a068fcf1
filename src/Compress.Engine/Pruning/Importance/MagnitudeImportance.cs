using static TorchSharp.torch;

namespace Compress.Engine.Pruning.Importance;

/// <summary>Magnitude: |w| (ShrinkBench's and the paper's L1 criterion).</summary>
public sealed class MagnitudeImportance : IWeightImportance
{
    /// <inheritdoc/>
    public string Name => "magnitude";

    /// <inheritdoc/>
    public bool NeedsGradients => false;

    /// <inheritdoc/>
    public Tensor Score(string name, int index, Tensor weight, ImportanceContext context) =>
        weight.detach().to(ScalarType.Float64).abs();
}

using static TorchSharp.torch;

namespace Compress.Engine.Pruning.Importance;

/// <summary>
/// Gradient magnitude (first-order Taylor, ShrinkBench's <c>GradMagnitude</c>): |w x dL/dw|, the loss change a first-order
/// expansion predicts when the weight is set to zero. The gradient comes from <see cref="GradientCollector"/>.
/// </summary>
public sealed class GradientMagnitudeImportance : IWeightImportance
{
    /// <inheritdoc/>
    public string Name => "gradient";

    /// <inheritdoc/>
    public bool NeedsGradients => true;

    /// <inheritdoc/>
    public Tensor Score(string name, int index, Tensor weight, ImportanceContext context)
    {
        using var w = weight.detach().to(ScalarType.Float64);
        using var g = context.Gradient(name).to(ScalarType.Float64);
        using var product = w.mul(g);
        return product.abs();
    }
}

using Compress.Engine.Models;
using Compress.Engine.Pruning.Importance;
using Compress.Engine.Pruning.Unstructured;

namespace Compress.Engine.Pruning.Dynamic;

/// <summary>
/// <see cref="DynamicPruning"/> of single weights: magnitude |w| of the dense weights, global over the conv and linear
/// weights (the classifier excluded unless <see cref="DynamicPruningOptions.IncludeClassifier"/>).
/// </summary>
public sealed class UnstructuredDynamicPruning : DynamicPruning
{
    private readonly long _units;

    /// <summary>Prunes the conv and linear weights of <paramref name="model"/> while it trains.</summary>
    public UnstructuredDynamicPruning(ClassifierModel model, DynamicPruningOptions options)
        : base(model, options with { Variant = DynamicPruningVariant.Unstructured })
    {
        var scope = UnstructuredPruner.ScopeOf(model, options.IncludeClassifier);
        _units = model.named_parameters().Where(p => scope.Contains(p.name)).Sum(p => p.parameter.numel());
    }

    /// <inheritdoc/>
    public override string Unit => "weights";

    /// <inheritdoc/>
    public override long Units => _units;

    /// <inheritdoc/>
    protected override (PruningMask Mask, long Masked, long Revived) Recompute(double sparsity)
    {
        using var context = new ImportanceContext(0, Updates.Count);
        var next = UnstructuredPruner.Compute(Model, sparsity,
            new UnstructuredPruningOptions { IncludeClassifier = Options.IncludeClassifier }, context);
        long revived = 0;
        if (Mask is { } before)
        {
            foreach (var (name, was) in before.Masks)
            {
                using var back = next.Masks[name].logical_and(was.logical_not());
                using var count = back.sum();
                revived += count.item<long>();
            }
        }
        return (next, next.PrunedCount, revived);
    }
}

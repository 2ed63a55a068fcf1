using Compress.Engine.Models;
using Compress.Engine.Pruning.Importance;
using Compress.Engine.Pruning.Unstructured;
using Compress.Engine.Training;
using static TorchSharp.torch;

namespace Compress.Engine.Pruning.Dynamic;

/// <summary>
/// Dynamic pruning with feedback (Lin et al., ICLR 2020), unstructured variant, as an <see cref="ITrainingHook"/>: the
/// forward pass sees the masked weights m (.) W, the gradient taken there updates the dense weights W (so pruned weights
/// keep learning and can come back), and every <see cref="MaskInterval"/> steps the mask is recomputed from the dense
/// magnitudes (global over the conv and linear weights, classifier excluded) at the ramp's sparsity
/// s_t = s x (1 - (1 - t / T_end)^3), reaching the target at <see cref="RampEnd"/> of training and frozen after. At the
/// end the model holds m (.) W. Momentum and weight decay act on the dense weights.
/// </summary>
public sealed class DynamicPruning : ITrainingHook, IDisposable
{
    private readonly ClassifierModel _model;
    private readonly Dictionary<string, Tensor> _parameters;
    private readonly Dictionary<string, Tensor> _dense = new(StringComparer.Ordinal);
    private PruningMask? _mask;

    /// <summary>Prunes <paramref name="model"/> dynamically to <paramref name="target"/> while it trains.</summary>
    public DynamicPruning(ClassifierModel model, double target, int maskInterval = 16, double rampEnd = 0.75)
    {
        ArgumentNullException.ThrowIfNull(model);
        PruneRateParser.Validate(target);
        if (maskInterval < 1) throw new ArgumentOutOfRangeException(nameof(maskInterval), maskInterval, "The mask interval must be at least 1.");
        if (!(rampEnd > 0 && rampEnd <= 1)) throw new ArgumentOutOfRangeException(nameof(rampEnd), rampEnd, "The ramp end must be in (0, 1].");
        _model = model;
        Target = target;
        MaskInterval = maskInterval;
        RampEnd = rampEnd;
        _parameters = model.named_parameters().ToDictionary(p => p.name, p => (Tensor)p.parameter, StringComparer.Ordinal);
    }

    /// <summary>The final fraction of the weights in scope that is masked.</summary>
    public double Target { get; }

    /// <summary>Steps between mask updates.</summary>
    public int MaskInterval { get; }

    /// <summary>Fraction of training after which the sparsity stays at the target and the mask is frozen.</summary>
    public double RampEnd { get; }

    /// <summary>Per mask update: the step, the sparsity asked, and how many weights came back (masked before, kept now).</summary>
    public List<(long Step, double Sparsity, long Revived)> Updates { get; } = [];

    /// <summary>The current mask (null before the first step).</summary>
    public PruningMask? Mask => _mask;

    /// <summary>The ramp's sparsity at step <paramref name="step"/> of <paramref name="totalSteps"/>.</summary>
    public double SparsityAt(long step, long totalSteps)
    {
        double end = Math.Max(1, RampEnd * totalSteps);
        double t = Math.Min(1, step / end);
        return Target * (1 - Math.Pow(1 - t, 3));
    }

    /// <inheritdoc/>
    public void BeforeForward(long step, long totalSteps)
    {
        bool frozen = step > RampEnd * totalSteps && _mask is not null && Updates[^1].Sparsity >= Target;
        if (!frozen && (step % MaskInterval == 0 || _mask is null || step >= RampEnd * totalSteps))
            Update(step, Math.Min(Target, SparsityAt(step, totalSteps)));
        using var noGrad = no_grad();
        // Keep the dense weights; the forward (and the gradient) sees the masked ones.
        foreach (var (name, mask) in _mask!.Masks)
        {
            var parameter = _parameters[name];
            if (!_dense.TryGetValue(name, out var dense)) _dense[name] = dense = parameter.detach().clone().DetachFromDisposeScope(); // outlives the step's scope
            else dense.copy_(parameter);
            parameter.mul_(mask);
        }
    }

    /// <inheritdoc/>
    public void BeforeOptimizerStep()
    {
        using var noGrad = no_grad();
        foreach (var (name, dense) in _dense) _parameters[name].copy_(dense);
    }

    /// <inheritdoc/>
    public void AfterTraining() => _mask?.Apply(_model);

    private void Update(long step, double sparsity)
    {
        using var context = new ImportanceContext(0, (int)Math.Min(int.MaxValue, step));
        var next = UnstructuredPruner.Compute(_model, sparsity, new UnstructuredPruningOptions(), context);
        long revived = 0;
        if (_mask is not null)
        {
            foreach (var (name, before) in _mask.Masks)
            {
                using var back = next.Masks[name].logical_and(before.logical_not());
                using var count = back.sum();
                revived += count.item<long>();
            }
            _mask.Dispose();
        }
        _mask = next;
        Updates.Add((step, sparsity, revived));
    }

    /// <summary>Disposes the mask and the dense copies.</summary>
    public void Dispose()
    {
        _mask?.Dispose();
        foreach (var t in _dense.Values) t.Dispose();
        _dense.Clear();
    }
}

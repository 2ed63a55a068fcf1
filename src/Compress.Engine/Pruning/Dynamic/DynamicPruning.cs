using Compress.Engine.Models;
using Compress.Engine.Training;
using static TorchSharp.torch;

namespace Compress.Engine.Pruning.Dynamic;

/// <summary>
/// Dynamic pruning with feedback (Lin et al., ICLR 2020) as an <see cref="ITrainingHook"/>, not a fork of the trainer:
/// the forward pass sees the masked weights m (.) W, the gradient taken there updates the dense weights W (restored
/// before the optimizer step, so momentum and weight decay act on them and pruned weights keep learning and can come
/// back), and every <see cref="DynamicPruningOptions.MaskInterval"/> steps the mask is recomputed from the dense weights
/// at the ramp's sparsity s_t = s x (1 - (1 - t / T_end)^3), which reaches the target at
/// <see cref="DynamicPruningOptions.RampEnd"/> of training; the mask is frozen after it. At the end the model holds
/// m (.) W. The variants differ only in what a mask covers: <see cref="UnstructuredDynamicPruning"/> single weights,
/// <see cref="FilterDynamicPruning"/> whole filters with their biases and norms.
/// </summary>
public abstract class DynamicPruning : ITrainingHook, IDisposable
{
    private readonly Dictionary<string, Tensor> _parameters;
    private readonly Dictionary<string, Tensor> _dense = new(StringComparer.Ordinal);
    private PruningMask? _mask;
    private long _step;

    /// <summary>Prunes <paramref name="model"/> dynamically while it trains.</summary>
    protected DynamicPruning(ClassifierModel model, DynamicPruningOptions options)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Model = model;
        Options = options;
        _parameters = model.named_parameters().ToDictionary(p => p.name, p => (Tensor)p.parameter, StringComparer.Ordinal);
    }

    /// <summary>The variant for <paramref name="options"/>.</summary>
    /// <exception cref="Diagnostics.CompressException">CMP0709 for invalid options; the filter variant also as
    /// <see cref="FilterDynamicPruning"/>'s constructor.</exception>
    public static DynamicPruning Create(ClassifierModel model, DynamicPruningOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        return options.Variant == DynamicPruningVariant.Filter
            ? new FilterDynamicPruning(model, options)
            : new UnstructuredDynamicPruning(model, options);
    }

    /// <summary>The model being trained.</summary>
    protected ClassifierModel Model { get; }

    /// <summary>The options.</summary>
    public DynamicPruningOptions Options { get; }

    /// <summary>What one unit of sparsity is: "weights" or "filters".</summary>
    public abstract string Unit { get; }

    /// <summary>Units in scope (weights, or prunable filters).</summary>
    public abstract long Units { get; }

    /// <summary>Units masked now.</summary>
    public long MaskedUnits { get; private set; }

    /// <summary>MaskedUnits / Units.</summary>
    public double Sparsity => Units == 0 ? 0 : (double)MaskedUnits / Units;

    /// <summary>Every mask update: step, sparsity asked, units masked, units that came back.</summary>
    public List<DynamicMaskUpdate> Updates { get; } = [];

    /// <summary>Every epoch's end: sparsity, test accuracy (when <see cref="EpochEvaluation"/> is set), filter correlation.</summary>
    public List<DynamicEpoch> Epochs { get; } = [];

    /// <summary>
    /// Called at the end of every epoch with the masked weights m (.) W in place (the dense ones are put back after);
    /// returns the test accuracy in percent. Null: no per-epoch accuracy.
    /// </summary>
    public Func<int, double>? EpochEvaluation { get; set; }

    /// <summary>The current parameter mask (null before the first step).</summary>
    public PruningMask? Mask => _mask;

    /// <summary>
    /// One-shot pruning with the same criterion, for comparisons: the mask at the full target from the current weights,
    /// applied at once (the model then holds m (.) W; the filter variant can <see cref="FilterDynamicPruning.Compact"/>).
    /// </summary>
    public void PruneOnce()
    {
        Update(0, Options.Target);
        _mask!.Apply(Model);
    }

    /// <summary>Hands the current mask to the caller (who then owns it); the hook keeps none.</summary>
    public PruningMask? TakeMask()
    {
        var mask = _mask;
        _mask = null;
        return mask;
    }

    /// <summary>The ramp's sparsity at step <paramref name="step"/> of <paramref name="totalSteps"/>.</summary>
    public double SparsityAt(long step, long totalSteps)
    {
        double end = Math.Max(1, Options.RampEnd * totalSteps);
        double t = Math.Min(1, step / end);
        return Options.Target * (1 - Math.Pow(1 - t, 3));
    }

    /// <inheritdoc/>
    public void BeforeForward(long step, long totalSteps)
    {
        _step = step;
        bool frozen = step > Options.RampEnd * totalSteps && _mask is not null && Updates[^1].Sparsity >= Options.Target;
        if (!frozen && (step % Options.MaskInterval == 0 || _mask is null || step >= Options.RampEnd * totalSteps))
            Update(step, Math.Min(Options.Target, SparsityAt(step, totalSteps)));
        SaveDenseAndMask();
    }

    /// <inheritdoc/>
    public void BeforeOptimizerStep() => RestoreDense();

    /// <inheritdoc/>
    public void AfterEpoch(int epoch)
    {
        double? accuracy = null;
        double correlation;
        if (_mask is null) correlation = DecorrelationRegularizer.MeanAbsoluteCorrelation(Model);
        else
        {
            // Measure what the model is (m (.) W), then give training its dense weights back.
            SaveDenseAndMask();
            try
            {
                correlation = DecorrelationRegularizer.MeanAbsoluteCorrelation(Model);
                if (EpochEvaluation is { } evaluate) accuracy = evaluate(epoch);
            }
            finally
            {
                RestoreDense();
            }
        }
        Epochs.Add(new DynamicEpoch(epoch, _step + 1, Sparsity, accuracy, correlation));
    }

    /// <inheritdoc/>
    public virtual void AfterTraining() => _mask?.Apply(Model);

    /// <summary>
    /// The mask for <paramref name="sparsity"/> from the dense weights (which the model holds when this is called), the
    /// units it masks, and the units that came back (masked by <see cref="Mask"/>, kept by the new one).
    /// </summary>
    protected abstract (PruningMask Mask, long Masked, long Revived) Recompute(double sparsity);

    private void Update(long step, double sparsity)
    {
        var (next, masked, revived) = Recompute(sparsity);
        _mask?.Dispose();
        _mask = next;
        MaskedUnits = masked;
        Updates.Add(new DynamicMaskUpdate(step, sparsity, masked, revived));
    }

    private void SaveDenseAndMask()
    {
        using var noGrad = no_grad();
        foreach (var (name, mask) in _mask!.Masks)
        {
            var parameter = _parameters[name];
            if (!_dense.TryGetValue(name, out var dense)) _dense[name] = dense = parameter.detach().clone().DetachFromDisposeScope(); // outlives the step's scope
            else dense.copy_(parameter);
            parameter.mul_(mask);
        }
    }

    private void RestoreDense()
    {
        using var noGrad = no_grad();
        foreach (var (name, dense) in _dense) _parameters[name].copy_(dense);
    }

    /// <summary>Disposes the mask and the dense copies.</summary>
    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Disposes the mask and the dense copies (and a subclass's own tensors).</summary>
    protected virtual void Dispose(bool disposing)
    {
        if (!disposing) return;
        _mask?.Dispose();
        _mask = null;
        foreach (var t in _dense.Values) t.Dispose();
        _dense.Clear();
    }
}

/// <summary>One mask update of dynamic pruning.</summary>
/// <param name="Step">Training step (0-based).</param>
/// <param name="Sparsity">Sparsity asked by the ramp at that step (fraction of the units in scope).</param>
/// <param name="Masked">Units (weights or filters) masked after the update.</param>
/// <param name="Revived">Units masked before the update and kept after it (0 at the first update).</param>
public sealed record DynamicMaskUpdate(long Step, double Sparsity, long Masked, long Revived);

/// <summary>The end of one epoch of dynamic pruning.</summary>
/// <param name="Epoch">1-based.</param>
/// <param name="Steps">Steps done so far.</param>
/// <param name="Sparsity">Fraction of the units in scope masked.</param>
/// <param name="Accuracy">Test accuracy of m (.) W in percent; null when not measured.</param>
/// <param name="MeanAbsoluteCorrelation">Mean off-diagonal |r| of the active conv filters
/// (<see cref="DecorrelationRegularizer.MeanAbsoluteCorrelation(TorchSharp.torch.nn.Module, bool)"/>).</param>
public sealed record DynamicEpoch(int Epoch, long Steps, double Sparsity, double? Accuracy, double MeanAbsoluteCorrelation);

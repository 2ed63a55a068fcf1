using TorchSharp;
using static TorchSharp.torch;

namespace Compress.Engine.Pruning;

/// <summary>
/// Which parameter entries survive pruning: per parameter name a bool tensor (true = kept) of the parameter's shape on
/// its device. Plain data, so it can be saved or rebuilt; <see cref="Apply"/> enforces it after every optimizer step
/// during masked fine-tuning. Owns its tensors.
/// </summary>
public sealed class PruningMask : IDisposable
{
    private readonly Dictionary<string, Tensor> _masks;
    private readonly Dictionary<string, Tensor> _pruned = [];
    private bool _disposed;

    /// <summary>
    /// Takes ownership of <paramref name="masks"/>: bool tensors, true where the entry is kept. Parameters without a
    /// mask are left alone by <see cref="Apply"/>.
    /// </summary>
    public PruningMask(IReadOnlyDictionary<string, Tensor> masks)
    {
        ArgumentNullException.ThrowIfNull(masks);
        _masks = new Dictionary<string, Tensor>(masks.Count, StringComparer.Ordinal);
        long total = 0, kept = 0;
        foreach (var (name, mask) in masks)
        {
            if (mask.dtype != ScalarType.Bool)
                throw new ArgumentException($"Mask '{name}' has element type {mask.dtype}; masks are bool tensors.", nameof(masks));
            _masks.Add(name, mask);
            total += mask.numel();
            using var sum = mask.sum();
            kept += sum.item<long>();
        }
        TotalCount = total;
        PrunedCount = total - kept;
    }

    /// <summary>Per parameter name, true where the entry is kept.</summary>
    public IReadOnlyDictionary<string, Tensor> Masks => _masks;

    /// <summary>Entries covered by the masks.</summary>
    public long TotalCount { get; }

    /// <summary>Entries pruned (false in the masks).</summary>
    public long PrunedCount { get; }

    /// <summary>PrunedCount / TotalCount (0 for an empty mask).</summary>
    public double Sparsity => TotalCount == 0 ? 0.0 : (double)PrunedCount / TotalCount;

    /// <summary>
    /// Zeroes the pruned entries of <paramref name="module"/>'s parameters in place, without recording gradients;
    /// afterwards every pruned weight is exactly +0.0 and every kept one is untouched (bit-identical). Throws
    /// <see cref="ArgumentException"/> when the module lacks a masked parameter or its shape differs.
    /// </summary>
    public void Apply(nn.Module module)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(module);
        var parameters = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, parameter) in module.named_parameters()) parameters[name] = parameter;
        using var noGrad = torch.no_grad();
        using var zero = 0.ToScalar();
        foreach (var (name, mask) in _masks)
        {
            if (!parameters.TryGetValue(name, out var parameter))
                throw new ArgumentException($"The module has no parameter '{name}' that the pruning mask covers.", nameof(module));
            if (!parameter.shape.SequenceEqual(mask.shape))
            {
                throw new ArgumentException(
                    $"Parameter '{name}' has shape [{string.Join(", ", parameter.shape)}] but its mask has [{string.Join(", ", mask.shape)}].",
                    nameof(module));
            }
            parameter.masked_fill_(PrunedOf(name, mask, parameter.device), zero);
        }
    }

    /// <summary>The inverse mask (true = pruned) on <paramref name="device"/>, cached between calls.</summary>
    private Tensor PrunedOf(string name, Tensor mask, Device device)
    {
        if (_pruned.TryGetValue(name, out var pruned) && SameDevice(pruned.device, device)) return pruned;
        pruned?.Dispose();
        pruned = mask.logical_not();
        if (!SameDevice(pruned.device, device))
        {
            var moved = pruned.to(device);
            pruned.Dispose();
            pruned = moved;
        }
        _pruned[name] = pruned;
        return pruned;
    }

    private static bool SameDevice(Device a, Device b) => a.type == b.type && a.index == b.index;

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        foreach (var t in _masks.Values) t.Dispose();
        foreach (var t in _pruned.Values) t.Dispose();
        _masks.Clear();
        _pruned.Clear();
    }
}

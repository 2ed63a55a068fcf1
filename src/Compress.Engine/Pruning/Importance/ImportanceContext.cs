using static TorchSharp.torch;

namespace Compress.Engine.Pruning.Importance;

/// <summary>
/// What a criterion may read besides the weights: gradients of the loss (<see cref="GradientCollector"/>), and the
/// seed and step for random scores. Owns the gradient tensors.
/// </summary>
public sealed class ImportanceContext : IDisposable
{
    private readonly Dictionary<string, Tensor> _gradients;

    /// <summary>A context with <paramref name="gradients"/> (taken over; by parameter name) for step
    /// <paramref name="step"/> of a run seeded with <paramref name="seed"/>.</summary>
    public ImportanceContext(int seed, int step = 0, IReadOnlyDictionary<string, Tensor>? gradients = null)
    {
        Seed = seed;
        Step = step;
        _gradients = gradients is null ? [] : new Dictionary<string, Tensor>(gradients, StringComparer.Ordinal);
    }

    /// <summary>The run's seed.</summary>
    public int Seed { get; }

    /// <summary>The step of an iterative schedule (0 for one-shot).</summary>
    public int Step { get; }

    /// <summary>The gradient of <paramref name="name"/>; an exception when none was collected.</summary>
    public Tensor Gradient(string name) => _gradients.TryGetValue(name, out var g)
        ? g
        : throw new InvalidOperationException($"No gradient was collected for '{name}'.");

    /// <summary>Disposes the gradients.</summary>
    public void Dispose()
    {
        foreach (var g in _gradients.Values) g.Dispose();
        _gradients.Clear();
    }
}

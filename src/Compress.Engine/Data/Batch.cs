using System.Globalization;
using static TorchSharp.torch;

namespace Compress.Engine.Data;

/// <summary>
/// One batch from <see cref="BatchLoader"/>. The consumer owns it: dispose it (<c>using var batch</c>) when done, the
/// tensors live outside any dispose scope.
/// </summary>
public sealed class Batch : IDisposable
{
    /// <summary>
    /// Wraps tensors made elsewhere (tests, custom loaders); the batch takes ownership and disposes them.
    /// </summary>
    /// <param name="images">float32 <c>[N, C, H, W]</c>.</param>
    /// <param name="labels">int64 <c>[N]</c>.</param>
    /// <param name="indices">Dataset index of each of the <c>N</c> images.</param>
    public Batch(Tensor images, Tensor labels, IReadOnlyList<int> indices)
        : this(images, labels, indices, Environment.CurrentManagedThreadId)
    {
    }

    internal Batch(Tensor images, Tensor labels, IReadOnlyList<int> indices, int workerThreadId)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(indices);
        if (images.ndim != 4 || labels.ndim != 1 || images.shape[0] != indices.Count || labels.shape[0] != indices.Count)
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"A batch needs images [N, C, H, W] and labels [N] for N = {indices.Count} indices; got " +
                $"[{string.Join(", ", images.shape)}] and [{string.Join(", ", labels.shape)}]."));
        Images = images;
        Labels = labels;
        Indices = indices;
        WorkerThreadId = workerThreadId;
    }

    /// <summary>float32 <c>[N, C, H, W]</c>, normalised, on the loader's device.</summary>
    public Tensor Images { get; }

    /// <summary>int64 <c>[N]</c> class labels, on the loader's device.</summary>
    public Tensor Labels { get; }

    /// <summary>Number of images <c>N</c>.</summary>
    public int Count => Indices.Count;

    /// <summary>Dataset index of each image, in batch order (for error analysis and tests).</summary>
    public IReadOnlyList<int> Indices { get; }

    /// <summary>Managed id of the thread that prepared the batch.</summary>
    internal int WorkerThreadId { get; }

    internal bool IsDisposed { get; private set; }

    /// <summary>Frees both tensors; safe to call twice.</summary>
    public void Dispose()
    {
        if (IsDisposed) return;
        IsDisposed = true;
        Images.Dispose();
        Labels.Dispose();
    }
}

using System.Globalization;
using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;
using System.Threading.Channels;
using Compress.Engine.Diagnostics;
using TorchSharp;
using static TorchSharp.torch;

namespace Compress.Engine.Data;

/// <summary>
/// Turns an <see cref="IImageDataset"/> into float batches for training and evaluation. Shuffling, augmentation
/// (random crop with 4-pixel zero padding and horizontal flip, decided per image) and normalisation run in managed
/// code on a dedicated worker thread that stays <see cref="LoaderOptions.Prefetch"/> batches ahead through a bounded
/// channel, so the trainer never waits for data. An epoch is a pure function of (<see cref="LoaderOptions.Seed"/>,
/// epoch number): the same order and the same augmentations on every run.
/// </summary>
public sealed class BatchLoader : IDisposable
{
    private readonly IImageDataset _dataset;
    private readonly LoaderOptions _options;
    private readonly Device _device;
    private readonly float[] _table;
    private readonly object _gate = new();
    private readonly HashSet<CancellationTokenSource> _running = [];
    private int _liveWorkers;
    private bool _disposed;

    /// <summary>Checks the options against the dataset; nothing runs until <see cref="Epoch"/> is enumerated.</summary>
    /// <param name="dataset">The images to batch.</param>
    /// <param name="options">Batch size, shuffling, augmentation, normalisation.</param>
    /// <param name="device">Where the batch tensors are placed.</param>
    public BatchLoader(IImageDataset dataset, LoaderOptions options, Device device)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(device);
        if (options.BatchSize < 1)
            throw new CompressException(DiagnosticCode.InvalidTrainingOption, string.Create(
                CultureInfo.InvariantCulture, $"Batch size {options.BatchSize} must be at least 1."),
                hint: "Use e.g. --batch-size 64.");
        if (options.Prefetch < 1)
            throw new CompressException(DiagnosticCode.InvalidTrainingOption, string.Create(
                CultureInfo.InvariantCulture, $"Prefetch depth {options.Prefetch} must be at least 1."));
        options.Normalization?.Validate(dataset.Shape.Channels);
        _dataset = dataset;
        _options = options;
        _device = device;
        _table = options.Normalization?.LookupTable() ?? Normalization.ScaleOnlyTable(dataset.Shape.Channels);
    }

    /// <summary>The dataset being batched.</summary>
    public IImageDataset Dataset => _dataset;

    /// <summary>The options in force.</summary>
    public LoaderOptions Options => _options;

    /// <summary>Batches one epoch yields: <c>ceil(Count / BatchSize)</c>, or <c>floor</c> with <see cref="LoaderOptions.DropLast"/>.</summary>
    public int BatchesPerEpoch => _options.DropLast
        ? _dataset.Count / _options.BatchSize
        : (_dataset.Count + _options.BatchSize - 1) / _options.BatchSize;

    /// <summary>Worker threads still running (tests check that stopping early ends the worker).</summary>
    internal int LiveWorkers => Volatile.Read(ref _liveWorkers);

    /// <summary>
    /// The batches of epoch <paramref name="epoch"/>, prepared on a worker thread while the caller consumes them.
    /// Each <see cref="Batch"/> belongs to the caller, who disposes it. Stopping early (break, exception) cancels the
    /// worker and frees the batches it had prepared; an exception on the worker is rethrown here, unchanged, after the
    /// batches completed before it.
    /// </summary>
    public IEnumerable<Batch> Epoch(int epoch)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return Run(epoch);
    }

    /// <summary>Stops running epochs (their consumers get <see cref="ObjectDisposedException"/>).</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            foreach (var cts in _running) cts.Cancel();
        }
    }

    private IEnumerable<Batch> Run(int epoch)
    {
        var channel = Channel.CreateBounded<Batch>(new BoundedChannelOptions(_options.Prefetch)
        {
            SingleReader = true,
            SingleWriter = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        using var cts = new CancellationTokenSource();
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _running.Add(cts);
        }
        Exception? failure = null;
        var worker = new Thread(() => failure = Produce(epoch, channel.Writer, cts.Token))
        {
            IsBackground = true,
            Name = "Compress batch loader",
        };
        Interlocked.Increment(ref _liveWorkers);
        try
        {
            worker.Start();
        }
        catch
        {
            Interlocked.Decrement(ref _liveWorkers);
            lock (_gate) _running.Remove(cts);
            throw;
        }
        try
        {
            var reader = channel.Reader;
            while (reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult())
                while (reader.TryRead(out var batch))
                    yield return batch;
            worker.Join();
            if (failure is not null) ExceptionDispatchInfo.Throw(failure);
        }
        finally
        {
            cts.Cancel();
            worker.Join();
            while (channel.Reader.TryRead(out var left)) left.Dispose();
            lock (_gate) _running.Remove(cts);
        }
    }

    /// <summary>The worker: prepares every batch in order; returns the exception that stopped it, if any.</summary>
    private Exception? Produce(int epoch, ChannelWriter<Batch> writer, CancellationToken token)
    {
        try
        {
            var rng = new Random(EpochSeed(_options.Seed, epoch));
            int[] order = Order(rng);
            int batches = BatchesPerEpoch;
            for (int b = 0; b < batches; b++)
            {
                token.ThrowIfCancellationRequested();
                int start = b * _options.BatchSize;
                int[] indices = order[start..Math.Min(start + _options.BatchSize, order.Length)];
                var batch = Prepare(indices, rng);
                try
                {
                    writer.WriteAsync(batch, token).AsTask().GetAwaiter().GetResult();
                }
                catch
                {
                    batch.Dispose();
                    throw;
                }
            }
            return null;
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            // The consumer stopped early (nobody is reading) or the loader was disposed under a running epoch.
            return _disposed ? new ObjectDisposedException(nameof(BatchLoader)) : null;
        }
        catch (Exception e)
        {
            return e;
        }
        finally
        {
            writer.TryComplete();
            Interlocked.Decrement(ref _liveWorkers);
        }
    }

    /// <summary>An epoch's seed: (Seed, epoch) mixed so neighbouring epochs and seeds give unrelated streams.</summary>
    internal static int EpochSeed(int seed, int epoch) =>
        (int)(SplitMix64.Mix((ulong)(uint)seed, (ulong)(uint)epoch) & int.MaxValue);

    private int[] Order(Random rng)
    {
        var order = new int[_dataset.Count];
        for (int i = 0; i < order.Length; i++) order[i] = i;
        if (!_options.Shuffle) return order;
        for (int i = order.Length - 1; i > 0; i--)
        {
            int j = rng.Next(i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }
        return order;
    }

    private Batch Prepare(int[] indices, Random rng)
    {
        var shape = _dataset.Shape;
        int size = shape.Size;
        Tensor? images = null, labels = null;
        try
        {
            images = empty([indices.Length, shape.Channels, shape.Height, shape.Width], ScalarType.Float32);
            labels = empty([indices.Length], ScalarType.Int64);
            // CPU tensors fresh from empty() are contiguous: fill their memory directly, no managed staging copy.
            Span<float> pixels = MemoryMarshal.Cast<byte, float>(images.bytes);
            Span<long> classes = MemoryMarshal.Cast<byte, long>(labels.bytes);
            for (int i = 0; i < indices.Length; i++)
            {
                int index = indices[i];
                var source = _dataset.GetPixels(index);
                if (source.Length != size)
                    throw new CompressException(DiagnosticCode.DatasetMalformed, string.Create(
                        CultureInfo.InvariantCulture,
                        $"Image {index} of {_dataset.Source} has {source.Length} bytes; {shape} needs {size}."),
                        _dataset.Source);
                int label = _dataset.GetLabel(index);
                if ((uint)label >= (uint)_dataset.ClassCount)
                    throw new CompressException(DiagnosticCode.DatasetMalformed, string.Create(
                        CultureInfo.InvariantCulture,
                        $"Image {index} of {_dataset.Source} has label {label}; the dataset has {_dataset.ClassCount} " +
                        $"classes."), _dataset.Source);
                classes[i] = label;
                var target = pixels.Slice(i * size, size);
                if (_options.Augment && shape.Height >= Augmentation.ResizedCropMinSide && shape.Width >= Augmentation.ResizedCropMinSide)
                {
                    var (x0, y0, cw, ch) = Augmentation.ResizedCropBox(shape.Height, shape.Width, rng);
                    Augmentation.ResizedCropFlip(source, target, shape, _table, x0, y0, cw, ch, rng.Next(2) == 1);
                }
                else if (_options.Augment)
                {
                    // Offsets into the zero-padded image: 0..8 means a shift of -4..+4 pixels.
                    int dx = rng.Next(9) - 4, dy = rng.Next(9) - 4;
                    bool flip = rng.Next(2) == 1;
                    Augmentation.CropFlip(source, target, shape, _table, dx, dy, flip);
                }
                else
                {
                    Augmentation.Copy(source, target, shape, _table);
                }
            }
            if (_options.ChannelsLast)
            {
                var planar = images;
                images = null;
                using (planar) images = Training.ChannelsLastLayout.Of(planar);
            }
            int worker = Environment.CurrentManagedThreadId;
            if (_device.type != DeviceType.CPU)
            {
                var (cpuImages, cpuLabels) = (images, labels);
                (images, labels) = (null, null);
                using (cpuImages)
                using (cpuLabels)
                {
                    images = cpuImages.to(_device);
                    labels = cpuLabels.to(_device);
                }
            }
            var batch = new Batch(images, labels, indices, worker);
            (images, labels) = (null, null);
            return batch;
        }
        finally
        {
            images?.Dispose();
            labels?.Dispose();
        }
    }
}

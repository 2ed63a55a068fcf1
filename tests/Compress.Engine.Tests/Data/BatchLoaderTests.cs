using Compress.Engine.Data;
using Compress.Engine.Diagnostics;
using Compress.Engine.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Compress.Engine.Tests.Data;

public class BatchLoaderTests
{
    private static readonly ImageShape Small = new(3, 8, 8);

    /// <summary>Images of random pixels in 1..255 (never 0, so zero padding is recognisable), labels i % classes.</summary>
    private static InMemoryImageDataset Dataset(int count, ImageShape? shape = null, int seed = 1, int classes = 10)
    {
        shape ??= Small;
        var rng = new Random(seed);
        var pixels = new byte[count * shape.Size];
        for (int i = 0; i < pixels.Length; i++) pixels[i] = (byte)rng.Next(1, 256);
        byte[] labels = [.. Enumerable.Range(0, count).Select(i => (byte)(i % classes))];
        return new InMemoryImageDataset(shape, pixels, labels,
            [.. Enumerable.Range(0, classes).Select(i => "c" + i)], "test");
    }

    private static List<Batch> All(BatchLoader loader, int epoch) => [.. loader.Epoch(epoch)];

    private static void DisposeAll(IEnumerable<Batch> batches)
    {
        foreach (var b in batches) b.Dispose();
    }

    private static float[] ImagesOf(Batch batch) => batch.Images.data<float>().ToArray();

    public BatchLoaderTests() => TorchRuntime.EnsureLoaded();

    [Fact]
    public void Epoch_TenImagesBatchFour_ShapesDtypesAndPartialLastBatch()
    {
        var data = Dataset(10);
        using var loader = new BatchLoader(data, new LoaderOptions { BatchSize = 4 }, CPU);

        var batches = All(loader, 0);
        try
        {
            Assert.Equal(3, loader.BatchesPerEpoch);
            Assert.Equal([4, 4, 2], batches.Select(b => b.Count));
            Assert.Equal([4L, 3, 8, 8], batches[0].Images.shape);
            Assert.Equal([2L, 3, 8, 8], batches[2].Images.shape);
            Assert.Equal(ScalarType.Float32, batches[0].Images.dtype);
            Assert.Equal(ScalarType.Int64, batches[0].Labels.dtype);
            Assert.Equal([2L], batches[2].Labels.shape);
            Assert.Equal(DeviceType.CPU, batches[0].Images.device_type);
            // No shuffle: dataset order; labels and pixels (scaled to [0, 1]) exact.
            Assert.Equal(Enumerable.Range(0, 10), batches.SelectMany(b => b.Indices));
            Assert.Equal([8L, 9L], batches[2].Labels.data<long>().ToArray());
            var image9 = ImagesOf(batches[2]).AsSpan(Small.Size, Small.Size).ToArray();
            Assert.Equal(data.GetPixels(9).ToArray().Select(p => p / 255f), image9);
        }
        finally
        {
            DisposeAll(batches);
        }
    }

    [Fact]
    public void Epoch_DropLast_SkipsPartialBatch()
    {
        using var loader = new BatchLoader(Dataset(10), new LoaderOptions { BatchSize = 4, DropLast = true }, CPU);

        var batches = All(loader, 0);
        try
        {
            Assert.Equal(2, loader.BatchesPerEpoch);
            Assert.Equal([4, 4], batches.Select(b => b.Count));
        }
        finally
        {
            DisposeAll(batches);
        }
    }

    private static int[] Order(BatchLoader loader, int epoch)
    {
        var batches = All(loader, epoch);
        DisposeAll(batches);
        return [.. batches.SelectMany(b => b.Indices)];
    }

    [Fact]
    public void Epoch_Shuffle_PermutationDeterministicPerSeedAndEpoch()
    {
        var data = Dataset(50);
        var options = new LoaderOptions { BatchSize = 8, Shuffle = true, Seed = 5 };
        using var loader = new BatchLoader(data, options, CPU);
        using var again = new BatchLoader(data, options, CPU);
        using var otherSeed = new BatchLoader(data, options with { Seed = 6 }, CPU);

        int[] epoch0 = Order(loader, 0);

        Assert.Equal(Enumerable.Range(0, 50), epoch0.Order());
        Assert.NotEqual(Enumerable.Range(0, 50), epoch0);
        Assert.Equal(epoch0, Order(again, 0));
        Assert.Equal(epoch0, Order(loader, 0));
        Assert.NotEqual(epoch0, Order(loader, 1));
        Assert.NotEqual(epoch0, Order(otherSeed, 0));
    }

    [Fact]
    public void Epoch_Shuffle_LabelsFollowTheirImages()
    {
        var data = Dataset(30, classes: 7);
        using var loader = new BatchLoader(data, new LoaderOptions { BatchSize = 8, Shuffle = true }, CPU);

        var batches = All(loader, 3);
        try
        {
            foreach (var b in batches)
            {
                long[] labels = b.Labels.data<long>().ToArray();
                float[] images = ImagesOf(b);
                for (int i = 0; i < b.Count; i++)
                {
                    Assert.Equal(data.GetLabel(b.Indices[i]), labels[i]);
                    Assert.Equal(data.GetPixels(b.Indices[i])[0] / 255f, images[i * Small.Size]);
                }
            }
        }
        finally
        {
            DisposeAll(batches);
        }
    }

    /// <summary>Reference augmentation written out plainly: zero-pad by 4, crop at (4+dy, 4+dx), then mirror.</summary>
    private static float[] Reference(ReadOnlySpan<byte> source, ImageShape shape, int dx, int dy, bool flip)
    {
        int h = shape.Height, w = shape.Width, ph = h + 8, pw = w + 8;
        var padded = new byte[shape.Channels, ph, pw];
        for (int c = 0; c < shape.Channels; c++)
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                    padded[c, y + 4, x + 4] = source[(c * h * w) + (y * w) + x];
        var result = new float[shape.Size];
        for (int c = 0; c < shape.Channels; c++)
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                {
                    byte cropped = padded[c, y + 4 + dy, (flip ? w - 1 - x : x) + 4 + dx];
                    result[(c * h * w) + (y * w) + x] = cropped / 255f;
                }
        return result;
    }

    [Fact]
    public void Epoch_Augment_EveryImageIsAPaddedCropOrFlipDecidedPerSample()
    {
        var data = Dataset(64);
        using var loader = new BatchLoader(data, new LoaderOptions { BatchSize = 16, Augment = true, Seed = 3 }, CPU);

        var batches = All(loader, 0);
        var seen = new HashSet<(int, int, bool)>();
        try
        {
            foreach (var b in batches)
            {
                Assert.Equal([16L, 3, 8, 8], b.Images.shape);
                float[] images = ImagesOf(b);
                for (int i = 0; i < b.Count; i++)
                {
                    var actual = images.AsSpan(i * Small.Size, Small.Size).ToArray();
                    var matches = (from dx in Enumerable.Range(-4, 9)
                                   from dy in Enumerable.Range(-4, 9)
                                   from flip in new[] { false, true }
                                   where Reference(data.GetPixels(b.Indices[i]), Small, dx, dy, flip).SequenceEqual(actual)
                                   select (dx, dy, flip)).ToList();
                    Assert.Single(matches);
                    seen.Add(matches[0]);
                }
            }
        }
        finally
        {
            DisposeAll(batches);
        }
        // Decided per image: 64 images draw many different transforms, flipped and not.
        Assert.True(seen.Count > 20, $"only {seen.Count} distinct transforms");
        Assert.Contains(seen, t => t.Item3);
        Assert.Contains(seen, t => !t.Item3);
        Assert.Contains(seen, t => t != (0, 0, false));
    }

    [Fact]
    public void Epoch_Augment_SameSeedAndEpochSamePixelsOtherEpochDifferent()
    {
        var data = Dataset(20);
        var options = new LoaderOptions { BatchSize = 20, Augment = true, Seed = 9 };
        using var a = new BatchLoader(data, options, CPU);
        using var b = new BatchLoader(data, options, CPU);

        float[] Pixels(BatchLoader loader, int epoch)
        {
            var batches = All(loader, epoch);
            float[] result = ImagesOf(batches.Single());
            DisposeAll(batches);
            return result;
        }

        float[] first = Pixels(a, 2);
        Assert.Equal(first, Pixels(b, 2));
        Assert.NotEqual(first, Pixels(a, 3));
    }

    [Fact]
    public void Epoch_Normalization_KnownPixelExact()
    {
        var pixels = new byte[Small.Size];
        pixels[0] = 0;                       // R (0, 0)
        pixels[64 + 9] = 200;                // G (1, 1)
        pixels[128 + 63] = 255;              // B (7, 7)
        var data = new InMemoryImageDataset(Small, pixels, [0], ["only"], "one");
        var norm = Normalization.Cifar10;
        using var loader = new BatchLoader(data, new LoaderOptions { Normalization = norm }, CPU);

        var batches = All(loader, 0);
        float[] images = ImagesOf(batches[0]);
        DisposeAll(batches);

        Assert.Equal((0f - 0.4914f) / 0.2470f, images[0]);
        Assert.Equal(((200 / 255f) - 0.4822f) / 0.2435f, images[64 + 9]);
        Assert.Equal(((255 / 255f) - 0.4465f) / 0.2616f, images[128 + 63]);
    }

    [Fact]
    public void Epoch_AugmentWithNormalization_PaddingIsNormalisedBlack()
    {
        // 1x1 images: any shift leaves only padding, so every non-identity crop shows normalised black.
        var shape = new ImageShape(3, 1, 1);
        var data = new InMemoryImageDataset(shape, [.. Enumerable.Repeat((byte)255, 3 * 40)],
            new byte[40], ["x"], "ones");
        using var loader = new BatchLoader(data, new LoaderOptions
        {
            BatchSize = 40, Augment = true, Normalization = Normalization.Cifar10,
        }, CPU);

        var batches = All(loader, 0);
        float[] images = ImagesOf(batches[0]);
        DisposeAll(batches);

        float black = (0f - 0.4914f) / 0.2470f, white = (1f - 0.4914f) / 0.2470f;
        Assert.All(Enumerable.Range(0, 40), i => Assert.True(images[i * 3] == black || images[i * 3] == white));
        Assert.Contains(black, images);
    }

    [Fact]
    public void Epoch_Batches_PreparedOnAnotherThread()
    {
        using var loader = new BatchLoader(Dataset(12), new LoaderOptions { BatchSize = 4 }, CPU);

        var batches = All(loader, 0);
        DisposeAll(batches);

        Assert.All(batches, b => Assert.NotEqual(Environment.CurrentManagedThreadId, b.WorkerThreadId));
        Assert.Single(batches.Select(b => b.WorkerThreadId).Distinct());
    }

    [Fact]
    public void Epoch_ConsumerBreaksEarly_WorkerStopsAndQueuedBatchesAreFreed()
    {
        var data = new CountingDataset(Dataset(400));
        using var loader = new BatchLoader(data, new LoaderOptions { BatchSize = 4, Prefetch = 2 }, CPU);

        Batch? first = null;
        foreach (var batch in loader.Epoch(0))
        {
            first = batch;
            Thread.Sleep(50);   // let the worker fill the channel and block on it
            break;
        }

        Assert.Equal(0, loader.LiveWorkers);
        // One consumed, two queued, at most one more in the worker's hands: far fewer than 100 batches.
        Assert.InRange(data.Reads, 4, 4 * 5);
        Assert.NotNull(first);
        Assert.False(first.IsDisposed);
        first.Dispose();
        // The loader is still usable.
        var again = All(loader, 1);
        Assert.Equal(100, again.Count);
        DisposeAll(again);
    }

    [Fact]
    public void Epoch_WorkerThrows_OriginalExceptionAfterEarlierBatches()
    {
        var boom = new CompressException(DiagnosticCode.DatasetMalformed, "image 5 is broken");
        var data = new FailingDataset(Dataset(10), failAt: 5, boom);
        using var loader = new BatchLoader(data, new LoaderOptions { BatchSize = 2 }, CPU);

        var received = new List<Batch>();
        var e = Assert.Throws<CompressException>(() =>
        {
            foreach (var batch in loader.Epoch(0)) received.Add(batch);
        });

        Assert.Same(boom, e);
        Assert.Equal(2, received.Count);   // indices 0-1 and 2-3; the batch with 5 failed
        Assert.Equal(0, loader.LiveWorkers);
        DisposeAll(received);
    }

    [Fact]
    public void Dispose_DuringEpoch_ConsumerGetsObjectDisposed()
    {
        var loader = new BatchLoader(Dataset(400), new LoaderOptions { BatchSize = 4 }, CPU);

        Assert.Throws<ObjectDisposedException>(() =>
        {
            foreach (var batch in loader.Epoch(0))
            {
                batch.Dispose();
                loader.Dispose();
            }
        });
        Assert.Equal(0, loader.LiveWorkers);
        Assert.Throws<ObjectDisposedException>(() => loader.Epoch(1));
    }

    [Fact]
    public void Constructor_ZeroBatchSize_Cmp0401()
    {
        var e = Assert.Throws<CompressException>(() =>
            new BatchLoader(Dataset(4), new LoaderOptions { BatchSize = 0 }, CPU));

        Assert.Equal(DiagnosticCode.InvalidTrainingOption, e.Code);
    }

    [Fact]
    public void Constructor_NormalizationForOtherChannelCount_Cmp0205()
    {
        var grey = Dataset(4, new ImageShape(1, 8, 8));

        var e = Assert.Throws<CompressException>(() =>
            new BatchLoader(grey, new LoaderOptions { Normalization = Normalization.Cifar10 }, CPU));

        Assert.Equal(DiagnosticCode.DatasetModelMismatch, e.Code);
    }

    [Fact]
    public void FromDataset_KnownPixels_MeanAndPopulationStd()
    {
        // Channel 0: half 0, half 255 -> mean 0.5, std 0.5. Channel 1: all 51 -> mean 0.2, no spread -> std 1.
        var shape = new ImageShape(2, 1, 2);
        var data = new InMemoryImageDataset(shape, [0, 255, 51, 51, 255, 0, 51, 51], [0, 0], ["a"], "x");

        var norm = Normalization.FromDataset(data);

        Assert.Equal(0.5f, norm.Mean[0]);
        Assert.Equal(0.5f, norm.Std[0]);
        Assert.Equal(0.2f, norm.Mean[1], 6);
        Assert.Equal(1f, norm.Std[1]);
    }

    private sealed class CountingDataset(IImageDataset inner) : IImageDataset
    {
        private int _reads;

        public int Reads => Volatile.Read(ref _reads);

        public int Count => inner.Count;
        public ImageShape Shape => inner.Shape;
        public int ClassCount => inner.ClassCount;
        public IReadOnlyList<string> ClassNames => inner.ClassNames;
        public string Source => inner.Source;
        public int GetLabel(int index) => inner.GetLabel(index);

        public ReadOnlySpan<byte> GetPixels(int index)
        {
            Interlocked.Increment(ref _reads);
            return inner.GetPixels(index);
        }
    }

    private sealed class FailingDataset(IImageDataset inner, int failAt, Exception error) : IImageDataset
    {
        public int Count => inner.Count;
        public ImageShape Shape => inner.Shape;
        public int ClassCount => inner.ClassCount;
        public IReadOnlyList<string> ClassNames => inner.ClassNames;
        public string Source => inner.Source;
        public int GetLabel(int index) => inner.GetLabel(index);
        public ReadOnlySpan<byte> GetPixels(int index) => index == failAt ? throw error : inner.GetPixels(index);
    }
}

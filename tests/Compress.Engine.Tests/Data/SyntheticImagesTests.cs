using Compress.Engine.Data;
using Compress.Engine.Diagnostics;

namespace Compress.Engine.Tests.Data;

public class SyntheticImagesTests
{
    private static readonly string[] Files =
    [
        "data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin",
        "test_batch.bin", "batches.meta.txt",
    ];

    [Fact]
    public void WriteCifarBinary_SameOptions_ByteIdenticalFiles()
    {
        using var dir = new TempDirectory();
        var options = new SyntheticDataOptions { Seed = 7, TrainCount = 120, TestCount = 30 };

        SyntheticImages.WriteCifarBinary(options, dir.Combine("a"));
        SyntheticImages.WriteCifarBinary(options, dir.Combine("b"));

        foreach (string file in Files)
            Assert.Equal(File.ReadAllBytes(dir.Combine("a", file)), File.ReadAllBytes(dir.Combine("b", file)));
        Assert.Empty(Directory.GetFiles(dir.Combine("a"), "*.tmp"));
    }

    [Fact]
    public void WriteCifarBinary_DifferentSeed_DifferentImages()
    {
        using var dir = new TempDirectory();
        SyntheticImages.WriteCifarBinary(new SyntheticDataOptions { Seed = 1, TrainCount = 50, TestCount = 10 },
            dir.Combine("a"));
        SyntheticImages.WriteCifarBinary(new SyntheticDataOptions { Seed = 2, TrainCount = 50, TestCount = 10 },
            dir.Combine("b"));

        byte[] a = File.ReadAllBytes(dir.Combine("a", "data_batch_1.bin"));
        byte[] b = File.ReadAllBytes(dir.Combine("b", "data_batch_1.bin"));
        Assert.Equal(a.Length, b.Length);
        int differing = a.Zip(b).Count(p => p.First != p.Second);
        Assert.True(differing > a.Length / 2, $"only {differing} of {a.Length} bytes differ");
    }

    [Fact]
    public void Load_SmallSet_BalancedClassesSplitOverFiveBatches()
    {
        using var dir = new TempDirectory();
        var options = new SyntheticDataOptions { Seed = 3, TrainCount = 203, TestCount = 50, CacheDirectory = dir.Path };

        var splits = SyntheticImages.Load(options);

        Assert.Equal(203, splits.Train.Count);
        Assert.Equal(50, splits.Test.Count);
        Assert.Equal(new ImageShape(3, 32, 32), splits.Train.Shape);
        Assert.Equal(SyntheticImages.ClassNames, splits.Train.ClassNames);
        var trainCounts = Enumerable.Range(0, splits.Train.Count).GroupBy(splits.Train.GetLabel)
            .ToDictionary(g => g.Key, g => g.Count());
        var testCounts = Enumerable.Range(0, splits.Test.Count).GroupBy(splits.Test.GetLabel)
            .ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(10, trainCounts.Count);
        Assert.All(trainCounts.Values, c => Assert.InRange(c, 20, 21));
        Assert.All(testCounts.Values, c => Assert.Equal(5, c));
        // Labels are shuffled, not 0, 1, ..., 9, 0, 1, ...
        Assert.NotEqual(Enumerable.Range(0, 20).Select(i => i % 10), Enumerable.Range(0, 20).Select(splits.Train.GetLabel));
        // 203 = 41 + 41 + 41 + 40 + 40 records.
        long[] sizes = [.. Enumerable.Range(1, 5).Select(i => new FileInfo(dir.Combine($"data_batch_{i}.bin")).Length)];
        Assert.Equal([41 * 3073L, 41 * 3073L, 41 * 3073L, 40 * 3073L, 40 * 3073L], sizes);
        Assert.Equal(SyntheticImages.ClassNames,
            File.ReadAllLines(dir.Combine("batches.meta.txt")).Where(l => l.Length > 0));
        Assert.StartsWith("synthetic(seed=3", splits.Train.Source, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_Images_AreNotFlatAndDifferFromEachOther()
    {
        using var dir = new TempDirectory();
        var splits = SyntheticImages.Load(new SyntheticDataOptions { TrainCount = 40, TestCount = 10, CacheDirectory = dir.Path });

        var seen = new HashSet<string>();
        for (int i = 0; i < splits.Train.Count; i++)
        {
            var pixels = splits.Train.GetPixels(i).ToArray();
            Assert.True(pixels.Distinct().Count() > 20, $"image {i} is nearly flat");
            Assert.True(seen.Add(Convert.ToBase64String(pixels)), $"image {i} repeats an earlier one");
        }
    }

    [Fact]
    public void Load_CompleteCache_ReusesFilesWithoutRewriting()
    {
        using var dir = new TempDirectory();
        var options = new SyntheticDataOptions { TrainCount = 20, TestCount = 10, CacheDirectory = dir.Path };
        SyntheticImages.Load(options);
        string test = dir.Combine("test_batch.bin");
        var stamp = new DateTime(2001, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        File.SetLastWriteTimeUtc(test, stamp);

        var sink = new CollectingSink();
        var splits = SyntheticImages.Load(options, sink);

        Assert.Equal(stamp, File.GetLastWriteTimeUtc(test));
        Assert.Empty(sink.ProgressLines);
        Assert.Equal(10, splits.Test.Count);
    }

    [Fact]
    public void Load_DamagedOrOtherOptionsCache_Regenerates()
    {
        using var dir = new TempDirectory();
        var options = new SyntheticDataOptions { TrainCount = 20, TestCount = 10, CacheDirectory = dir.Path };
        SyntheticImages.Load(options);
        byte[] original = File.ReadAllBytes(dir.Combine("data_batch_2.bin"));
        File.WriteAllBytes(dir.Combine("data_batch_2.bin"), original[..100]);

        var sink = new CollectingSink();
        SyntheticImages.Load(options, sink);
        Assert.Single(sink.ProgressLines);
        Assert.Equal(original, File.ReadAllBytes(dir.Combine("data_batch_2.bin")));

        var other = SyntheticImages.Load(options with { TestCount = 5 });
        Assert.Equal(5, other.Test.Count);
    }

    [Fact]
    public void Load_FolderWithForeignCifarFiles_Cmp0004AndLeavesThem()
    {
        using var dir = new TempDirectory();
        DataFiles.WriteCifar(dir.Combine("test_batch.bin"), [1]);

        var e = Assert.Throws<CompressException>(() =>
            SyntheticImages.Load(new SyntheticDataOptions { TrainCount = 10, TestCount = 10, CacheDirectory = dir.Path }));

        Assert.Equal(DiagnosticCode.OutputWriteFailed, e.Code);
        Assert.Equal(3073, new FileInfo(dir.Combine("test_batch.bin")).Length);
    }

    [Fact]
    public void DefaultCacheDirectory_DependsOnOptionsAndIsUnderTemp()
    {
        var a = SyntheticImages.DefaultCacheDirectory(new SyntheticDataOptions { Seed = 1 });
        var b = SyntheticImages.DefaultCacheDirectory(new SyntheticDataOptions { Seed = 2 });
        var a2 = SyntheticImages.DefaultCacheDirectory(new SyntheticDataOptions { Seed = 1 });

        Assert.NotEqual(a, b);
        Assert.Equal(a, a2);
        Assert.StartsWith(Path.GetTempPath(), a, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0, 10)]
    [InlineData(10, 0)]
    [InlineData(-5, 10)]
    public void Load_NonPositiveCounts_Cmp0001(int train, int test)
    {
        var e = Assert.Throws<CompressException>(() =>
            SyntheticImages.Load(new SyntheticDataOptions { TrainCount = train, TestCount = test }));

        Assert.Equal(DiagnosticCode.InvalidOption, e.Code);
    }
}

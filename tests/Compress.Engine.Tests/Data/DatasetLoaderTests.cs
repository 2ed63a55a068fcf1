using Compress.Engine.Data;
using Compress.Engine.Diagnostics;
using SkiaSharp;

namespace Compress.Engine.Tests.Data;

public class DatasetLoaderTests
{
    [Fact]
    public void Load_Synthetic_TenClassesOfCifarShape()
    {
        using var dir = new TempDirectory();
        var sink = new CollectingSink();

        var splits = DatasetLoader.Load("Synthetic",
            new SyntheticDataOptions { TrainCount = 30, TestCount = 20, CacheDirectory = dir.Path }, sink);

        Assert.Equal(new ImageShape(3, 32, 32), splits.Train.Shape);
        Assert.Equal(10, splits.Train.ClassCount);
        Assert.Equal(30, splits.Train.Count);
        Assert.Equal(20, splits.Test.Count);
        Assert.StartsWith("synthetic(seed=0", splits.Test.Source, StringComparison.Ordinal);
        Assert.Contains(sink.ProgressLines, l => l.StartsWith("Loaded synthetic data", StringComparison.Ordinal));
    }

    [Fact]
    public void Load_CifarFolder_DetectedAsCifar()
    {
        using var dir = new TempDirectory();
        string inner = dir.Combine("cifar-10-batches-bin");
        Directory.CreateDirectory(inner);
        DataFiles.WriteCifar(Path.Combine(inner, "data_batch_1.bin"), [4, 5]);
        DataFiles.WriteCifar(Path.Combine(inner, "test_batch.bin"), [6]);

        var splits = DatasetLoader.Load(dir.Path);

        Assert.Equal(new ImageShape(3, 32, 32), splits.Train.Shape);
        Assert.Equal(5, splits.Train.GetLabel(1));
        Assert.Equal(inner, splits.Train.Source);
    }

    [Fact]
    public void Load_MnistFolder_DetectedAsMnist()
    {
        using var dir = new TempDirectory();
        DataFiles.WriteMnist(dir.Path, gzip: true);

        var splits = DatasetLoader.Load(dir.Path);

        Assert.Equal(new ImageShape(1, 4, 5), splits.Train.Shape);
        Assert.Equal(3, splits.Train.Count);
    }

    [Fact]
    public void Load_ImageFolder_DetectedAsImageFolder()
    {
        using var dir = new TempDirectory();
        foreach (string split in new[] { "train", "test" })
        {
            string folder = dir.Combine(split, "cats");
            Directory.CreateDirectory(folder);
            using var bitmap = new SKBitmap(6, 5);
            bitmap.Erase(new SKColor(10, 20, 30));
            using var png = bitmap.Encode(SKEncodedImageFormat.Png, 100);
            File.WriteAllBytes(Path.Combine(folder, "1.png"), png.ToArray());
        }

        var splits = DatasetLoader.Load(dir.Path);

        Assert.Equal(new ImageShape(3, 5, 6), splits.Train.Shape);
        Assert.Equal(["cats"], splits.Test.ClassNames);
        Assert.Equal(30, splits.Train.GetPixels(0)[2 * 30]);
    }

    [Fact]
    public void Load_MissingFolder_Cmp0201()
    {
        using var dir = new TempDirectory();

        var e = Assert.Throws<CompressException>(() => DatasetLoader.Load(dir.Combine("absent")));

        Assert.Equal(DiagnosticCode.DatasetNotFound, e.Code);
        Assert.Equal(dir.Combine("absent"), e.FilePath);
    }

    [Fact]
    public void Load_EmptyFolder_Cmp0201ListsExpectedLayouts()
    {
        using var dir = new TempDirectory();

        var e = Assert.Throws<CompressException>(() => DatasetLoader.Load(dir.Path));

        Assert.Equal(DiagnosticCode.DatasetNotFound, e.Code);
        Assert.Contains("test_batch.bin", e.Message, StringComparison.Ordinal);
        Assert.Contains("train-images-idx3-ubyte", e.Message, StringComparison.Ordinal);
        Assert.Contains("train/ and test/", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_FileInsteadOfFolder_Cmp0201()
    {
        using var dir = new TempDirectory();
        string file = dir.Combine("data.bin");
        File.WriteAllBytes(file, [1, 2, 3]);

        var e = Assert.Throws<CompressException>(() => DatasetLoader.Load(file));

        Assert.Equal(DiagnosticCode.DatasetNotFound, e.Code);
    }
}

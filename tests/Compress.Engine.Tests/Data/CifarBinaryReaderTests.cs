using Compress.Engine.Data;
using Compress.Engine.Diagnostics;

namespace Compress.Engine.Tests.Data;

public class CifarBinaryReaderTests
{
    [Fact]
    public void Read_WrittenBatches_LabelsAndPixelsExactInFileOrder()
    {
        using var dir = new TempDirectory();
        // data_batch_10 must come after data_batch_2 (numeric, not ordinal, order).
        DataFiles.WriteCifar(dir.Combine("data_batch_2.bin"), [3, 9], firstRecord: 0);
        DataFiles.WriteCifar(dir.Combine("data_batch_10.bin"), [0], firstRecord: 2);
        DataFiles.WriteCifar(dir.Combine("test_batch.bin"), [5, 1, 2], firstRecord: 100);

        var splits = CifarBinaryReader.Read(dir.Path);

        Assert.Equal(new ImageShape(3, 32, 32), splits.Train.Shape);
        Assert.Equal(3, splits.Train.Count);
        Assert.Equal(3, splits.Test.Count);
        Assert.Equal([3, 9, 0], Enumerable.Range(0, 3).Select(splits.Train.GetLabel));
        Assert.Equal([5, 1, 2], Enumerable.Range(0, 3).Select(splits.Test.GetLabel));
        for (int r = 0; r < 3; r++)
        {
            var pixels = splits.Train.GetPixels(r).ToArray();
            Assert.Equal(3072, pixels.Length);
            Assert.Equal(Enumerable.Range(0, 3072).Select(k => DataFiles.CifarPixel(r, k)), pixels);
        }
        Assert.Equal(Enumerable.Range(0, 3072).Select(k => DataFiles.CifarPixel(101, k)),
            splits.Test.GetPixels(1).ToArray());
        Assert.Equal(CifarBinaryReader.DefaultClassNames, splits.Train.ClassNames);
        Assert.Equal(10, splits.Train.ClassCount);
        Assert.Equal(dir.Path, splits.Train.Source);
    }

    [Fact]
    public void ReadBatchFile_OneRecord_PlanesAreRedGreenBlueInFileOrder()
    {
        using var dir = new TempDirectory();
        var record = new byte[3073];
        record[0] = 4;
        record.AsSpan(1, 1024).Fill(10);     // R plane
        record.AsSpan(1025, 1024).Fill(20);  // G plane
        record.AsSpan(2049, 1024).Fill(30);  // B plane
        record[1 + 33] = 99;                 // R at row 1, column 1
        string path = dir.Combine("data_batch_1.bin");
        File.WriteAllBytes(path, record);

        var (labels, pixels) = CifarBinaryReader.ReadBatchFile(path);

        Assert.Equal([4], labels);
        Assert.Equal(10, pixels[0]);
        Assert.Equal(20, pixels[1024]);
        Assert.Equal(30, pixels[2048]);
        Assert.Equal(99, pixels[(1 * 32) + 1]);
    }

    [Fact]
    public void Read_MetaFile_UsesItsClassNames()
    {
        using var dir = new TempDirectory();
        DataFiles.WriteCifar(dir.Combine("data_batch_1.bin"), [0]);
        DataFiles.WriteCifar(dir.Combine("test_batch.bin"), [0]);
        string[] names = [.. Enumerable.Range(0, 10).Select(i => "class" + i)];
        File.WriteAllText(dir.Combine("batches.meta.txt"), string.Join("\n", names) + "\n\n");

        var splits = CifarBinaryReader.Read(dir.Path);

        Assert.Equal(names, splits.Train.ClassNames);
        Assert.Equal(names, splits.Test.ClassNames);
    }

    [Fact]
    public void Read_ParentOfArchiveFolder_FindsBatches()
    {
        using var dir = new TempDirectory();
        string inner = dir.Combine("cifar-10-batches-bin");
        Directory.CreateDirectory(inner);
        DataFiles.WriteCifar(Path.Combine(inner, "data_batch_1.bin"), [1, 2]);
        DataFiles.WriteCifar(Path.Combine(inner, "test_batch.bin"), [3]);

        var splits = CifarBinaryReader.Read(dir.Path);

        Assert.Equal(2, splits.Train.Count);
        Assert.Equal(3, splits.Test.GetLabel(0));
    }

    [Fact]
    public void Read_TruncatedFile_Cmp0202WithOffsetOfPartialRecord()
    {
        using var dir = new TempDirectory();
        string path = dir.Combine("data_batch_1.bin");
        DataFiles.WriteCifar(path, [1, 2, 3]);
        using (var stream = new FileStream(path, FileMode.Open)) stream.SetLength((2 * 3073) + 100);
        DataFiles.WriteCifar(dir.Combine("test_batch.bin"), [3]);

        var e = Assert.Throws<CompressException>(() => CifarBinaryReader.Read(dir.Path));

        Assert.Equal(DiagnosticCode.DatasetTruncated, e.Code);
        Assert.Equal(path, e.FilePath);
        Assert.Contains("byte offset 6146", e.Message, StringComparison.Ordinal);
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_LabelAboveNine_Cmp0203WithOffsetOfRecord()
    {
        using var dir = new TempDirectory();
        string path = dir.Combine("test_batch.bin");
        DataFiles.WriteCifar(dir.Combine("data_batch_1.bin"), [1]);
        DataFiles.WriteCifar(path, [0, 0, 0, 10]);

        var e = Assert.Throws<CompressException>(() => CifarBinaryReader.Read(dir.Path));

        Assert.Equal(DiagnosticCode.DatasetMalformed, e.Code);
        Assert.Equal(path, e.FilePath);
        Assert.Contains("label 10 at byte offset 9219", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_MissingFolder_Cmp0201()
    {
        using var dir = new TempDirectory();
        string missing = dir.Combine("nope");

        var e = Assert.Throws<CompressException>(() => CifarBinaryReader.Read(missing));

        Assert.Equal(DiagnosticCode.DatasetNotFound, e.Code);
        Assert.Equal(missing, e.FilePath);
    }

    [Fact]
    public void Read_MissingTestBatch_Cmp0201NamesTheFile()
    {
        using var dir = new TempDirectory();
        DataFiles.WriteCifar(dir.Combine("data_batch_1.bin"), [1]);

        var e = Assert.Throws<CompressException>(() => CifarBinaryReader.Read(dir.Path));

        Assert.Equal(DiagnosticCode.DatasetNotFound, e.Code);
        Assert.Contains("test_batch.bin", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_NoTrainingBatches_Cmp0201NamesExpectedFiles()
    {
        using var dir = new TempDirectory();
        DataFiles.WriteCifar(dir.Combine("test_batch.bin"), [1]);

        var e = Assert.Throws<CompressException>(() => CifarBinaryReader.Read(dir.Path));

        Assert.Equal(DiagnosticCode.DatasetNotFound, e.Code);
        Assert.Contains("data_batch_1.bin", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_MetaWithWrongCount_Cmp0203()
    {
        using var dir = new TempDirectory();
        DataFiles.WriteCifar(dir.Combine("data_batch_1.bin"), [0]);
        DataFiles.WriteCifar(dir.Combine("test_batch.bin"), [0]);
        File.WriteAllText(dir.Combine("batches.meta.txt"), "a\nb\n");

        var e = Assert.Throws<CompressException>(() => CifarBinaryReader.Read(dir.Path));

        Assert.Equal(DiagnosticCode.DatasetMalformed, e.Code);
        Assert.Contains("2 class names", e.Message, StringComparison.Ordinal);
    }
}

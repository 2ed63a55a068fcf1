using System.Buffers.Binary;
using Compress.Engine.Data;
using Compress.Engine.Diagnostics;

namespace Compress.Engine.Tests.Data;

public class MnistIdxReaderTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Read_WrittenIdxFiles_ImagesAndLabelsExact(bool gzip)
    {
        using var dir = new TempDirectory();
        DataFiles.WriteMnist(dir.Path, gzip);

        var splits = MnistIdxReader.Read(dir.Path);

        Assert.Equal(new ImageShape(1, 4, 5), splits.Train.Shape);
        Assert.Equal(3, splits.Train.Count);
        Assert.Equal(2, splits.Test.Count);
        Assert.Equal([7, 0, 9], Enumerable.Range(0, 3).Select(splits.Train.GetLabel));
        Assert.Equal([3, 3], Enumerable.Range(0, 2).Select(splits.Test.GetLabel));
        for (int i = 0; i < 3; i++)
            Assert.Equal(Enumerable.Range(0, 20).Select(k => DataFiles.MnistPixel(i, k)),
                splits.Train.GetPixels(i).ToArray());
        Assert.Equal(Enumerable.Range(0, 20).Select(k => DataFiles.MnistPixel(1, k)),
            splits.Test.GetPixels(1).ToArray());
        Assert.Equal(10, splits.Train.ClassCount);
        Assert.Equal("7", splits.Train.ClassNames[7]);
    }

    [Fact]
    public void Read_DottedFileNames_Accepted()
    {
        using var dir = new TempDirectory();
        File.WriteAllBytes(dir.Combine("train-images.idx3-ubyte"), DataFiles.IdxImages(1, 2, 2));
        File.WriteAllBytes(dir.Combine("train-labels.idx1-ubyte"), DataFiles.IdxLabels([1]));
        File.WriteAllBytes(dir.Combine("t10k-images.idx3-ubyte"), DataFiles.IdxImages(1, 2, 2));
        File.WriteAllBytes(dir.Combine("t10k-labels.idx1-ubyte"), DataFiles.IdxLabels([2]));

        var splits = MnistIdxReader.Read(dir.Path);

        Assert.Equal(new ImageShape(1, 2, 2), splits.Train.Shape);
        Assert.Equal(2, splits.Test.GetLabel(0));
    }

    [Fact]
    public void ReadLabels_ImageMagicInLabelFile_Cmp0203NamesBothMagics()
    {
        using var dir = new TempDirectory();
        string path = dir.Combine("labels");
        File.WriteAllBytes(path, DataFiles.IdxLabels([1, 2], magic: 0x803));

        var e = Assert.Throws<CompressException>(() => MnistIdxReader.ReadLabels(path));

        Assert.Equal(DiagnosticCode.DatasetMalformed, e.Code);
        Assert.Equal(path, e.FilePath);
        Assert.Contains("0x00000803 at byte offset 0", e.Message, StringComparison.Ordinal);
        Assert.Contains("0x00000801", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_BadImageMagic_Cmp0203()
    {
        using var dir = new TempDirectory();
        DataFiles.WriteMnist(dir.Path);
        string path = dir.Combine("t10k-images-idx3-ubyte");
        File.WriteAllBytes(path, DataFiles.IdxImages(2, 4, 5, magic: 0x12345678));

        var e = Assert.Throws<CompressException>(() => MnistIdxReader.Read(dir.Path));

        Assert.Equal(DiagnosticCode.DatasetMalformed, e.Code);
        Assert.Equal(path, e.FilePath);
        Assert.Contains("0x12345678", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadImages_TruncatedData_Cmp0202WithOffsetOfCutImage()
    {
        using var dir = new TempDirectory();
        string path = dir.Combine("images");
        byte[] full = DataFiles.IdxImages(3, 4, 5);          // 16 + 3 * 20 bytes
        File.WriteAllBytes(path, full[..(16 + 20 + 7)]);     // image 1 is cut after 7 bytes

        var e = Assert.Throws<CompressException>(() => MnistIdxReader.ReadImages(path));

        Assert.Equal(DiagnosticCode.DatasetTruncated, e.Code);
        Assert.Contains("image 1 starts at byte offset 36", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadLabels_ShortHeader_Cmp0202()
    {
        using var dir = new TempDirectory();
        string path = dir.Combine("labels");
        File.WriteAllBytes(path, [0, 0, 8, 1, 0]);

        var e = Assert.Throws<CompressException>(() => MnistIdxReader.ReadLabels(path));

        Assert.Equal(DiagnosticCode.DatasetTruncated, e.Code);
        Assert.Contains("byte offset 5", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadImages_TrailingBytes_Cmp0203WithOffset()
    {
        using var dir = new TempDirectory();
        string path = dir.Combine("images");
        File.WriteAllBytes(path, [.. DataFiles.IdxImages(2, 2, 2), 1, 2, 3]);

        var e = Assert.Throws<CompressException>(() => MnistIdxReader.ReadImages(path));

        Assert.Equal(DiagnosticCode.DatasetMalformed, e.Code);
        Assert.Contains("3 bytes after its last image at byte offset 24", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_LabelCountDiffersFromImageCount_Cmp0203()
    {
        using var dir = new TempDirectory();
        DataFiles.WriteMnist(dir.Path);
        File.WriteAllBytes(dir.Combine("train-labels-idx1-ubyte"), DataFiles.IdxLabels([1, 2]));

        var e = Assert.Throws<CompressException>(() => MnistIdxReader.Read(dir.Path));

        Assert.Equal(DiagnosticCode.DatasetMalformed, e.Code);
        Assert.Contains("3 images", e.Message, StringComparison.Ordinal);
        Assert.Contains("2 labels", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_CorruptGzip_Cmp0203()
    {
        using var dir = new TempDirectory();
        DataFiles.WriteMnist(dir.Path, gzip: true);
        string path = dir.Combine("t10k-labels-idx1-ubyte.gz");
        byte[] bytes = File.ReadAllBytes(path);
        for (int i = 10; i < bytes.Length; i++) bytes[i] ^= 0x5A;
        File.WriteAllBytes(path, bytes);

        var e = Assert.Throws<CompressException>(() => MnistIdxReader.Read(dir.Path));

        Assert.Equal(path, e.FilePath);
        Assert.True(e.Code is DiagnosticCode.DatasetMalformed or DiagnosticCode.DatasetTruncated, e.Code);
    }

    [Fact]
    public void Read_MissingLabelFile_Cmp0201NamesIt()
    {
        using var dir = new TempDirectory();
        DataFiles.WriteMnist(dir.Path);
        File.Delete(dir.Combine("t10k-labels-idx1-ubyte"));

        var e = Assert.Throws<CompressException>(() => MnistIdxReader.Read(dir.Path));

        Assert.Equal(DiagnosticCode.DatasetNotFound, e.Code);
        Assert.Contains("t10k-labels-idx1-ubyte", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadImages_HeaderCountMatchesBigEndian_ReadsAllImages()
    {
        using var dir = new TempDirectory();
        string path = dir.Combine("images");
        byte[] data = DataFiles.IdxImages(300, 1, 1);   // count 300 = 0x0000012C needs two bytes
        Assert.Equal(300, BinaryPrimitives.ReadInt32BigEndian(data.AsSpan(4)));
        File.WriteAllBytes(path, data);

        var (shape, pixels) = MnistIdxReader.ReadImages(path);

        Assert.Equal(new ImageShape(1, 1, 1), shape);
        Assert.Equal(300, pixels.Length);
        Assert.Equal(DataFiles.MnistPixel(299, 0), pixels[299]);
    }

    [Theory]
    // 10 images of 28x28 declared, 64 MB of zeros inside the gzip (about 64 KB on disk): the reader stops after the
    // declared size + 1 byte and reports the extra data, instead of inflating it all.
    [InlineData(10, 64 << 20, "CMP0203")]
    // 2^31 - 1 images declared: more than an IDX file may hold, refused from the header alone.
    [InlineData(int.MaxValue, 1024, "CMP0203")]
    public void ReadImages_GzipBomb_StopsAtTheDeclaredSize_WithACodedError(int declaredCount, int zeros, string code)
    {
        using var dir = new TempDirectory();
        string path = dir.Combine("train-images-idx3-ubyte.gz");
        using (var file = File.Create(path))
        using (var gz = new System.IO.Compression.GZipStream(file, System.IO.Compression.CompressionLevel.Fastest))
        {
            var header = new byte[16];
            System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(header, MnistIdxReader.ImageMagic);
            System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), declaredCount);
            System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(8), 28);
            System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(12), 28);
            gz.Write(header);
            var block = new byte[1 << 20];
            for (int written = 0; written < zeros; written += block.Length) gz.Write(block, 0, Math.Min(block.Length, zeros - written));
        }
        Assert.True(new FileInfo(path).Length < 1 << 20);

        var e = Assert.Throws<CompressException>(() => MnistIdxReader.ReadImages(path));

        Assert.Equal(code, e.Code);
        Assert.Equal(path, e.FilePath);
    }
}

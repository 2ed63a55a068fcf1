using System.Buffers.Binary;
using System.IO.Compression;

namespace Compress.Engine.Tests.Data;

/// <summary>Writes small dataset files byte by byte, independently of the readers under test.</summary>
internal static class DataFiles
{
    /// <summary>Pixel byte of CIFAR record <paramref name="record"/> at CHW offset <paramref name="offset"/>: varies in both.</summary>
    public static byte CifarPixel(int record, int offset) => (byte)((offset * 7) + (record * 31) + (offset / 1024 * 50));

    /// <summary>Writes CIFAR-10 records whose pixels follow <see cref="CifarPixel"/> (record numbers from <paramref name="firstRecord"/>).</summary>
    public static void WriteCifar(string path, byte[] labels, int firstRecord = 0)
    {
        var data = new byte[labels.Length * 3073];
        for (int r = 0; r < labels.Length; r++)
        {
            data[r * 3073] = labels[r];
            for (int k = 0; k < 3072; k++) data[(r * 3073) + 1 + k] = CifarPixel(firstRecord + r, k);
        }
        File.WriteAllBytes(path, data);
    }

    public static byte MnistPixel(int image, int offset) => (byte)((image * 13) + (offset * 3) + 1);

    /// <summary>An IDX image file of <paramref name="count"/> images (pixels from <see cref="MnistPixel"/>).</summary>
    public static byte[] IdxImages(int count, int rows, int cols, int magic = 0x803)
    {
        var data = new byte[16 + (count * rows * cols)];
        BinaryPrimitives.WriteInt32BigEndian(data, magic);
        BinaryPrimitives.WriteInt32BigEndian(data.AsSpan(4), count);
        BinaryPrimitives.WriteInt32BigEndian(data.AsSpan(8), rows);
        BinaryPrimitives.WriteInt32BigEndian(data.AsSpan(12), cols);
        for (int i = 0; i < count; i++)
            for (int k = 0; k < rows * cols; k++)
                data[16 + (i * rows * cols) + k] = MnistPixel(i, k);
        return data;
    }

    public static byte[] IdxLabels(byte[] labels, int magic = 0x801)
    {
        var data = new byte[8 + labels.Length];
        BinaryPrimitives.WriteInt32BigEndian(data, magic);
        BinaryPrimitives.WriteInt32BigEndian(data.AsSpan(4), labels.Length);
        labels.CopyTo(data, 8);
        return data;
    }

    public static void WriteGzip(string path, byte[] data)
    {
        using var file = File.Create(path);
        using var zip = new GZipStream(file, CompressionLevel.Fastest);
        zip.Write(data);
    }

    /// <summary>A complete MNIST folder: 3 train and 2 test images of 4x5.</summary>
    public static void WriteMnist(string folder, bool gzip = false)
    {
        void Write(string name, byte[] data)
        {
            if (gzip) WriteGzip(Path.Combine(folder, name + ".gz"), data);
            else File.WriteAllBytes(Path.Combine(folder, name), data);
        }
        Write("train-images-idx3-ubyte", IdxImages(3, 4, 5));
        Write("train-labels-idx1-ubyte", IdxLabels([7, 0, 9]));
        Write("t10k-images-idx3-ubyte", IdxImages(2, 4, 5));
        Write("t10k-labels-idx1-ubyte", IdxLabels([3, 3]));
    }
}

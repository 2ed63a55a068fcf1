using System.Buffers.Binary;
using System.Globalization;
using System.IO.Compression;
using Compress.Engine.Diagnostics;

namespace Compress.Engine.Data;

/// <summary>
/// Reads MNIST-style IDX files (MNIST, Fashion-MNIST): an image file with magic <c>0x00000803</c> and big-endian
/// count, rows and columns, and a label file with magic <c>0x00000801</c> and a count; plain or gzip-compressed.
/// </summary>
public static class MnistIdxReader
{
    /// <summary>Magic number of an IDX file of unsigned bytes with three dimensions (images).</summary>
    public const int ImageMagic = 0x00000803;

    /// <summary>Magic number of an IDX file of unsigned bytes with one dimension (labels).</summary>
    public const int LabelMagic = 0x00000801;

    /// <summary>The four files a folder must hold (each may also end in <c>.gz</c>, and use <c>.idx</c> for <c>-idx</c>).</summary>
    public static IReadOnlyList<string> FileNames { get; } =
        ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"];

    private const string Hint = "Re-download or re-extract the MNIST files.";

    /// <summary>True when <paramref name="folder"/> holds at least one of the MNIST files (under any accepted name).</summary>
    public static bool LooksLikeMnist(string folder) => FileNames.Any(n => FindFile(folder, n) is not null);

    /// <summary>
    /// Reads the training and test splits. Missing files are CMP0201; a bad magic number, disagreeing counts or
    /// dimensions CMP0203; a file shorter than its header says CMP0202, each naming the file and byte offset.
    /// </summary>
    public static DatasetSplits Read(string folder)
    {
        ArgumentNullException.ThrowIfNull(folder);
        if (!Directory.Exists(folder))
            throw new CompressException(DiagnosticCode.DatasetNotFound, $"MNIST folder '{folder}' does not exist.",
                folder, Hint);
        string[] paths = [.. FileNames.Select(n => FindFile(folder, n) ?? throw new CompressException(
            DiagnosticCode.DatasetNotFound,
            $"'{folder}' has no MNIST file '{n}' (or '{n}.gz'); expected {string.Join(", ", FileNames)}.",
            folder, Hint))];
        var (trainShape, trainPixels) = ReadImages(paths[0]);
        byte[] trainLabels = ReadLabels(paths[1]);
        var (testShape, testPixels) = ReadImages(paths[2]);
        byte[] testLabels = ReadLabels(paths[3]);
        CheckCount(paths[0], trainPixels.Length / trainShape.Size, paths[1], trainLabels.Length);
        CheckCount(paths[2], testPixels.Length / testShape.Size, paths[3], testLabels.Length);
        if (trainShape != testShape)
            throw new CompressException(DiagnosticCode.DatasetMalformed,
                $"'{paths[0]}' holds {trainShape} images but '{paths[2]}' holds {testShape} images.", paths[2], Hint);
        int classes = Math.Max(10, Math.Max(MaxOrZero(trainLabels), MaxOrZero(testLabels)) + 1);
        string[] names = [.. Enumerable.Range(0, classes).Select(i => i.ToString(CultureInfo.InvariantCulture))];
        return new DatasetSplits(
            new InMemoryImageDataset(trainShape, trainPixels, trainLabels, names, folder),
            new InMemoryImageDataset(testShape, testPixels, testLabels, names, folder));
    }

    /// <summary>Reads an IDX image file into a CHW (1 x rows x cols) buffer.</summary>
    internal static (ImageShape Shape, byte[] Pixels) ReadImages(string path)
    {
        byte[] data = ReadAll(path, out string where);
        RequireHeader(path, data, 16, where);
        CheckMagic(path, data, ImageMagic, "images", where);
        int count = BinaryPrimitives.ReadInt32BigEndian(data.AsSpan(4));
        int rows = BinaryPrimitives.ReadInt32BigEndian(data.AsSpan(8));
        int cols = BinaryPrimitives.ReadInt32BigEndian(data.AsSpan(12));
        if (count < 0 || rows <= 0 || cols <= 0 || (long)rows * cols > 1 << 24)
            throw new CompressException(DiagnosticCode.DatasetMalformed, string.Create(CultureInfo.InvariantCulture,
                $"'{path}' declares {count} images of {rows}x{cols} at byte offset 4{where}; the dimensions are not " +
                $"valid."), path, Hint);
        long imageSize = (long)rows * cols;
        CheckLength(path, data.LongLength, 16, count, imageSize, "image", where);
        return (new ImageShape(1, rows, cols), data.AsSpan(16).ToArray());
    }

    /// <summary>Reads an IDX label file.</summary>
    internal static byte[] ReadLabels(string path)
    {
        byte[] data = ReadAll(path, out string where);
        RequireHeader(path, data, 8, where);
        CheckMagic(path, data, LabelMagic, "labels", where);
        int count = BinaryPrimitives.ReadInt32BigEndian(data.AsSpan(4));
        if (count < 0)
            throw new CompressException(DiagnosticCode.DatasetMalformed, string.Create(CultureInfo.InvariantCulture,
                $"'{path}' declares {count} labels at byte offset 4{where}."), path, Hint);
        CheckLength(path, data.LongLength, 8, count, 1, "label", where);
        return data.AsSpan(8).ToArray();
    }

    private static string? FindFile(string folder, string name)
    {
        string dotted = name.Replace("-idx", ".idx", StringComparison.Ordinal);
        foreach (string candidate in new[] { name, name + ".gz", dotted, dotted + ".gz" })
        {
            string path = Path.Combine(folder, candidate);
            if (File.Exists(path)) return path;
        }
        return null;
    }

    private static byte[] ReadAll(string path, out string where)
    {
        bool gz = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase);
        where = gz ? " of the decompressed data" : "";
        try
        {
            if (!gz) return File.ReadAllBytes(path);
            using var file = File.OpenRead(path);
            using var unzip = new GZipStream(file, CompressionMode.Decompress);
            // The header first, then at most what it declares (+1, so CheckLength sees extra data): a small file that
            // inflates to gigabytes (a gzip bomb) stops at its declared size, which is bounded, not at the memory limit.
            var header = new byte[16];
            int got = unzip.ReadAtLeast(header, header.Length, throwOnEndOfStream: false);
            long declared = DeclaredLength(path, header.AsSpan(0, got));
            using var memory = new MemoryStream();
            memory.Write(header, 0, got);
            var buffer = new byte[81920];
            while (memory.Length <= declared)
            {
                int n = unzip.Read(buffer, 0, (int)Math.Min(buffer.Length, declared + 1 - memory.Length));
                if (n == 0) break;
                memory.Write(buffer, 0, n);
            }
            return memory.ToArray();
        }
        catch (InvalidDataException e)
        {
            throw new CompressException(DiagnosticCode.DatasetMalformed,
                $"'{path}' is not a valid gzip file: {e.Message}", path, Hint, e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CompressException(DiagnosticCode.DatasetNotFound, $"'{path}' could not be read: {e.Message}",
                path, "Check that the file exists and is readable.", e);
        }
    }

    /// <summary>The most bytes an IDX file may declare: 2 GiB (a .NET array's limit; MNIST's images are 47 MB).</summary>
    public const long MaxFileBytes = int.MaxValue - 64;

    /// <summary>
    /// The length the IDX header in <paramref name="header"/> declares (header included), or the header's own length
    /// when it is too short or unknown (the readers then report it); CMP0203 when it declares more than <see cref="MaxFileBytes"/>.
    /// </summary>
    private static long DeclaredLength(string path, ReadOnlySpan<byte> header)
    {
        if (header.Length < 8) return header.Length;
        int magic = BinaryPrimitives.ReadInt32BigEndian(header);
        double count = BinaryPrimitives.ReadInt32BigEndian(header[4..]);
        // In double: count x rows x cols can exceed a long and wrap.
        double total = magic == LabelMagic ? 8 + count
            : magic == ImageMagic && header.Length >= 16
                ? 16 + count * BinaryPrimitives.ReadInt32BigEndian(header[8..]) * BinaryPrimitives.ReadInt32BigEndian(header[12..])
                : header.Length;
        if (total > MaxFileBytes)
            throw new CompressException(DiagnosticCode.DatasetMalformed, string.Create(CultureInfo.InvariantCulture,
                $"'{path}' declares {total:N0} bytes of decompressed data in its header, more than the {MaxFileBytes:N0} an IDX file may hold; it was not decompressed further."),
                path, Hint);
        return Math.Max(header.Length, (long)total);
    }

    private static void RequireHeader(string path, byte[] data, int headerSize, string where)
    {
        if (data.Length < headerSize)
            throw new CompressException(DiagnosticCode.DatasetTruncated, string.Create(CultureInfo.InvariantCulture,
                $"'{path}' is truncated: its {headerSize}-byte IDX header ends at byte offset {data.Length}{where}."),
                path, Hint);
    }

    private static void CheckMagic(string path, byte[] data, int expected, string what, string where)
    {
        int magic = BinaryPrimitives.ReadInt32BigEndian(data);
        if (magic != expected)
            throw new CompressException(DiagnosticCode.DatasetMalformed, string.Create(CultureInfo.InvariantCulture,
                $"'{path}' has magic number 0x{magic:X8} at byte offset 0{where}; IDX {what} need 0x{expected:X8}."),
                path, "The file is corrupt or not an MNIST IDX file (images and labels swapped?). " + Hint);
    }

    private static void CheckLength(string path, long length, int header, int count, long itemSize, string item,
        string where)
    {
        long expected = header + count * itemSize;
        if (length < expected)
        {
            long whole = (length - header) / itemSize;
            long offset = header + whole * itemSize;
            throw new CompressException(DiagnosticCode.DatasetTruncated, string.Create(CultureInfo.InvariantCulture,
                $"'{path}' is truncated: its header declares {count} {item}s but only {whole} are complete; {item} " +
                $"{whole} starts at byte offset {offset}{where} and the file ends at {length}."), path, Hint);
        }
        if (length > expected)
            throw new CompressException(DiagnosticCode.DatasetMalformed, string.Create(CultureInfo.InvariantCulture,
                $"'{path}' has {length - expected} bytes after its last {item} at byte offset {expected}{where}; its " +
                $"header declares {count} {item}s."), path, Hint);
    }

    private static void CheckCount(string images, int imageCount, string labels, int labelCount)
    {
        if (imageCount != labelCount)
            throw new CompressException(DiagnosticCode.DatasetMalformed, string.Create(CultureInfo.InvariantCulture,
                $"'{images}' holds {imageCount} images but '{labels}' holds {labelCount} labels (counts at byte " +
                $"offset 4)."), labels, Hint);
    }

    private static int MaxOrZero(byte[] labels) => labels.Length == 0 ? 0 : labels.Max();
}

using System.Globalization;
using Compress.Engine.Diagnostics;

namespace Compress.Engine.Data;

/// <summary>
/// Reads the CIFAR-10 binary version (<c>cifar-10-batches-bin</c>): files of 3073-byte records, one label byte and
/// 3072 pixel bytes as R, G and B planes of 32x32, which is already the CHW layout the engine keeps in memory.
/// </summary>
public static class CifarBinaryReader
{
    /// <summary>Bytes in one record: label plus 3x32x32 pixels.</summary>
    public const int RecordSize = 1 + PixelBytes;

    /// <summary>Name of the sub-folder the official archive extracts to.</summary>
    public const string ArchiveFolderName = "cifar-10-batches-bin";

    /// <summary>Name of the test split file.</summary>
    public const string TestFileName = "test_batch.bin";

    /// <summary>Name of the optional class-name file (one name per line).</summary>
    public const string MetaFileName = "batches.meta.txt";

    private const int PixelBytes = 3 * 32 * 32;
    private const int Classes = 10;

    /// <summary>The class names of CIFAR-10, used when the folder has no <see cref="MetaFileName"/>.</summary>
    public static IReadOnlyList<string> DefaultClassNames { get; } =
        ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"];

    /// <summary>The shape of every CIFAR-10 image.</summary>
    public static ImageShape Shape { get; } = new(3, 32, 32);

    /// <summary>
    /// The folder that holds the batch files: <paramref name="folder"/> itself, or its
    /// <see cref="ArchiveFolderName"/> sub-folder; null when neither looks like CIFAR-10 binary data.
    /// </summary>
    public static string? FindDataFolder(string folder)
    {
        if (LooksLikeCifar(folder)) return folder;
        string inner = Path.Combine(folder, ArchiveFolderName);
        return Directory.Exists(inner) && LooksLikeCifar(inner) ? inner : null;
    }

    /// <summary>
    /// Reads every <c>data_batch_N.bin</c> (in order of N) as the training split and <see cref="TestFileName"/> as the
    /// test split. Missing files are CMP0201, a size that is not a whole number of records CMP0202, a label above 9
    /// CMP0203; each message names the file and byte offset.
    /// </summary>
    /// <param name="folder">The folder with the batch files, or the folder containing <see cref="ArchiveFolderName"/>.</param>
    /// <param name="source">Overrides the datasets' <see cref="IImageDataset.Source"/> (default: the folder).</param>
    public static DatasetSplits Read(string folder, string? source = null)
    {
        ArgumentNullException.ThrowIfNull(folder);
        if (!Directory.Exists(folder))
            throw new CompressException(DiagnosticCode.DatasetNotFound,
                $"CIFAR-10 folder '{folder}' does not exist.", folder, Hint);
        string dir = FindDataFolder(folder) ?? folder;
        var trainFiles = FindTrainFiles(dir);
        if (trainFiles.Count == 0)
            throw new CompressException(DiagnosticCode.DatasetNotFound,
                $"'{dir}' has no CIFAR-10 training files (expected data_batch_1.bin ... data_batch_5.bin).", dir, Hint);
        string testFile = Path.Combine(dir, TestFileName);
        if (!File.Exists(testFile))
            throw new CompressException(DiagnosticCode.DatasetNotFound,
                $"'{dir}' has no CIFAR-10 test file (expected {TestFileName}).", testFile, Hint);
        var classNames = ReadClassNames(dir);
        string label = source ?? dir;
        return new DatasetSplits(ReadFiles(trainFiles, classNames, label), ReadFiles([testFile], classNames, label));
    }

    /// <summary>Reads one batch file into labels and CHW pixels (3072 bytes per image).</summary>
    internal static (byte[] Labels, byte[] Pixels) ReadBatchFile(string path)
    {
        var (labels, pixels) = Allocate([path]);
        ReadInto(path, labels, pixels, 0);
        return (labels, pixels);
    }

    private const string Hint =
        "Point --data at the extracted cifar-10-batches-bin folder (data_batch_1..5.bin, test_batch.bin), or use " +
        "'synthetic'.";

    private static bool LooksLikeCifar(string dir) =>
        Directory.Exists(dir) && (File.Exists(Path.Combine(dir, TestFileName)) || FindTrainFiles(dir).Count > 0);

    private static List<string> FindTrainFiles(string dir)
    {
        var found = new List<(int Number, string Path)>();
        foreach (string file in Directory.EnumerateFiles(dir, "data_batch_*.bin"))
        {
            string name = Path.GetFileNameWithoutExtension(file);
            if (int.TryParse(name.AsSpan("data_batch_".Length), NumberStyles.None, CultureInfo.InvariantCulture,
                    out int number))
                found.Add((number, file));
        }
        found.Sort((a, b) => a.Number != b.Number ? a.Number.CompareTo(b.Number) : string.CompareOrdinal(a.Path, b.Path));
        return [.. found.Select(f => f.Path)];
    }

    private static string[] ReadClassNames(string dir)
    {
        string meta = Path.Combine(dir, MetaFileName);
        if (!File.Exists(meta)) return [.. DefaultClassNames];
        string[] names;
        try
        {
            names = [.. File.ReadAllLines(meta).Select(l => l.Trim()).Where(l => l.Length > 0)];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw CannotRead(meta, e);
        }
        if (names.Length != Classes)
            throw new CompressException(DiagnosticCode.DatasetMalformed, string.Create(CultureInfo.InvariantCulture,
                $"'{meta}' lists {names.Length} class names; CIFAR-10 needs {Classes} (one per line)."), meta,
                "Fix or delete the file; without it the standard CIFAR-10 names are used.");
        return names;
    }

    private static InMemoryImageDataset ReadFiles(IReadOnlyList<string> files, string[] classNames, string source)
    {
        var (labels, pixels) = Allocate(files);
        int record = 0;
        foreach (string file in files) record += ReadInto(file, labels, pixels, record);
        return new InMemoryImageDataset(Shape, pixels, labels, classNames, source);
    }

    private static (byte[] Labels, byte[] Pixels) Allocate(IReadOnlyList<string> files)
    {
        long records = 0;
        foreach (string file in files)
        {
            long length;
            try
            {
                length = new FileInfo(file).Length;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw CannotRead(file, e);
            }
            if (length % RecordSize != 0)
            {
                long offset = length / RecordSize * RecordSize;
                throw new CompressException(DiagnosticCode.DatasetTruncated, string.Create(CultureInfo.InvariantCulture,
                    $"'{file}' is truncated: {length} bytes is not a whole number of {RecordSize}-byte records; the " +
                    $"partial record {length / RecordSize} starts at byte offset {offset}."), file,
                    "Re-extract the CIFAR-10 archive (or delete the folder to regenerate synthetic data).");
            }
            records += length / RecordSize;
        }
        if (records * PixelBytes > Array.MaxLength)
            throw new CompressException(DiagnosticCode.DatasetMalformed, string.Create(CultureInfo.InvariantCulture,
                $"{records} CIFAR-10 records do not fit in memory as one array."), files[0]);
        return (new byte[records], new byte[records * PixelBytes]);
    }

    /// <summary>Reads one file's records into the buffers starting at <paramref name="firstRecord"/>.</summary>
    private static int ReadInto(string path, byte[] labels, byte[] pixels, int firstRecord)
    {
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
            long length = stream.Length;
            if (length % RecordSize != 0 || firstRecord + length / RecordSize > labels.Length)
                throw new CompressException(DiagnosticCode.DatasetTruncated,
                    $"'{path}' changed size while it was being read.", path);
            int count = (int)(length / RecordSize);
            var record = new byte[RecordSize];
            for (int r = 0; r < count; r++)
            {
                stream.ReadExactly(record);
                byte label = record[0];
                if (label >= Classes)
                    throw new CompressException(DiagnosticCode.DatasetMalformed, string.Create(
                        CultureInfo.InvariantCulture,
                        $"'{path}' record {r} has label {label} at byte offset {(long)r * RecordSize}; CIFAR-10 labels " +
                        $"are 0..{Classes - 1}."), path,
                        "The file is corrupt or not CIFAR-10 binary data (CIFAR-100 is not supported); re-extract it.");
                labels[firstRecord + r] = label;
                record.AsSpan(1).CopyTo(pixels.AsSpan((firstRecord + r) * PixelBytes, PixelBytes));
            }
            return count;
        }
        catch (EndOfStreamException e)
        {
            throw new CompressException(DiagnosticCode.DatasetTruncated, $"'{path}' ended early while it was being read.",
                path, inner: e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw CannotRead(path, e);
        }
    }

    private static CompressException CannotRead(string path, Exception e) =>
        new(DiagnosticCode.DatasetNotFound, $"'{path}' could not be read: {e.Message}", path,
            "Check that the file exists and is readable.", e);
}

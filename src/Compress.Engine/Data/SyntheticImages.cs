using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Compress.Engine.Diagnostics;

namespace Compress.Engine.Data;

/// <summary>
/// The built-in synthetic dataset: ten classes of procedurally drawn 32x32 RGB images (circle, square, triangle, cross,
/// ring, horizontal stripes, vertical stripes, checker, diagonal line, blob pair) with random colours, backgrounds,
/// clutter, occluders and noise. It is written as CIFAR-10 binary files and read back with
/// <see cref="CifarBinaryReader"/>, so the synthetic path exercises the same reader as real data. A small CIFAR
/// ResNet learns it to over 90% test accuracy in a few CPU epochs, and not to 100%: some images are low-contrast or
/// very noisy.
/// </summary>
public static class SyntheticImages
{
    /// <summary>
    /// Version of the drawing code. It is part of the cache key, so changing the generator must bump it: otherwise
    /// old cached files would be reused as if they were the new data.
    /// </summary>
    public const int GeneratorVersion = 1;

    /// <summary>Name of the file written last into the output folder; it marks the folder as complete.</summary>
    public const string ManifestFileName = "synthetic-manifest.txt";

    /// <summary>Names of the ten classes, in label order.</summary>
    public static IReadOnlyList<string> ClassNames => SyntheticImageGenerator.ClassNames;

    private const int TrainFiles = 5;

    /// <summary>The folder <see cref="Load"/> uses when <see cref="SyntheticDataOptions.CacheDirectory"/> is null.</summary>
    public static string DefaultCacheDirectory(SyntheticDataOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        byte[] hash = SHA256.HashData(Encoding.UTF8.GetBytes(CacheKey(options)));
        return Path.Combine(Path.GetTempPath(), "compress-synthetic",
            "v" + GeneratorVersion.ToString(CultureInfo.InvariantCulture) + "-" +
            Convert.ToHexString(hash.AsSpan(0, 8)).ToLowerInvariant());
    }

    /// <summary>
    /// Generates the dataset and writes <c>data_batch_1..5.bin</c> (the training images split as evenly as possible),
    /// <c>test_batch.bin</c>, <c>batches.meta.txt</c> and, last, <see cref="ManifestFileName"/>. Every file goes to a
    /// temporary name first and is then moved into place, so a crash never leaves a half-written file.
    /// </summary>
    public static void WriteCifarBinary(SyntheticDataOptions options, string outputDirectory)
    {
        Validate(options);
        ArgumentNullException.ThrowIfNull(outputDirectory);
        byte[] trainLabels = SyntheticImageGenerator.Labels(options.Seed, 0, options.TrainCount);
        byte[] testLabels = SyntheticImageGenerator.Labels(options.Seed, 1, options.TestCount);
        byte[] trainPixels = SyntheticImageGenerator.Render(options.Seed, 0, trainLabels);
        byte[] testPixels = SyntheticImageGenerator.Render(options.Seed, 1, testLabels);
        try
        {
            Directory.CreateDirectory(outputDirectory);
            // Remove a stale manifest first so the folder never looks complete while files are being replaced.
            File.Delete(Path.Combine(outputDirectory, ManifestFileName));
            int start = 0;
            for (int f = 0; f < TrainFiles; f++)
            {
                int count = BatchCount(options.TrainCount, f);
                WriteRecords(Path.Combine(outputDirectory, TrainFileName(f)), trainLabels, trainPixels, start, count);
                start += count;
            }
            WriteRecords(Path.Combine(outputDirectory, CifarBinaryReader.TestFileName), testLabels, testPixels, 0,
                options.TestCount);
            WriteAtomically(Path.Combine(outputDirectory, CifarBinaryReader.MetaFileName),
                Encoding.UTF8.GetBytes(string.Join('\n', ClassNames) + "\n"));
            WriteAtomically(Path.Combine(outputDirectory, ManifestFileName),
                Encoding.UTF8.GetBytes(Manifest(options)));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CompressException(DiagnosticCode.OutputWriteFailed,
                $"Synthetic dataset could not be written to '{outputDirectory}': {e.Message}", outputDirectory,
                "Check the folder is writable, or set another cache folder.", e);
        }
    }

    /// <summary>
    /// Generates the dataset into its cache folder unless a complete copy for the same options is already there, then
    /// reads it back with the CIFAR-10 reader. Generating the default 12,000 images takes about a second.
    /// </summary>
    public static DatasetSplits Load(SyntheticDataOptions options, IDiagnosticSink? sink = null)
    {
        Validate(options);
        string dir = options.CacheDirectory ?? DefaultCacheDirectory(options);
        if (!IsComplete(options, dir))
        {
            if (!File.Exists(Path.Combine(dir, ManifestFileName)) && CifarBinaryReader.FindDataFolder(dir) == dir)
                throw new CompressException(DiagnosticCode.OutputWriteFailed,
                    $"'{dir}' already holds CIFAR-10 files that the synthetic generator did not write; they are left " +
                    "alone.", dir, "Choose an empty or new folder for the synthetic data.");
            sink?.Progress(string.Create(CultureInfo.InvariantCulture,
                $"Generating synthetic dataset (seed {options.Seed}, {options.TrainCount} train, {options.TestCount} " +
                $"test images) in {dir}"));
            WriteCifarBinary(options, dir);
        }
        return CifarBinaryReader.Read(dir, Source(options));
    }

    /// <summary><c>synthetic(seed=0, train=10000, test=2000)</c>: how the data is named in messages.</summary>
    public static string Source(SyntheticDataOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return string.Create(CultureInfo.InvariantCulture,
            $"synthetic(seed={options.Seed}, train={options.TrainCount}, test={options.TestCount})");
    }

    /// <summary>True when <paramref name="dir"/> holds a complete copy generated for exactly these options.</summary>
    internal static bool IsComplete(SyntheticDataOptions options, string dir)
    {
        try
        {
            string manifest = Path.Combine(dir, ManifestFileName);
            if (!File.Exists(manifest) || File.ReadAllText(manifest, Encoding.UTF8) != Manifest(options)) return false;
            for (int f = 0; f < TrainFiles; f++)
                if (!HasSize(Path.Combine(dir, TrainFileName(f)), BatchCount(options.TrainCount, f))) return false;
            return HasSize(Path.Combine(dir, CifarBinaryReader.TestFileName), options.TestCount) &&
                   File.Exists(Path.Combine(dir, CifarBinaryReader.MetaFileName));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static bool HasSize(string path, int records)
    {
        var info = new FileInfo(path);
        return info.Exists && info.Length == (long)records * CifarBinaryReader.RecordSize;
    }

    /// <summary>The most images a synthetic split may have: 500,000 (one split is held as one byte array: 500,000 images of
    /// 3,072 bytes stay below the array size limit).</summary>
    public const int MaxImagesPerSplit = 500_000;

    private static void Validate(SyntheticDataOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        const int max = MaxImagesPerSplit;
        if (options.TrainCount < 1 || options.TrainCount > max || options.TestCount < 1 || options.TestCount > max)
            throw new CompressException(DiagnosticCode.InvalidOption, string.Create(CultureInfo.InvariantCulture,
                $"Synthetic dataset sizes train={options.TrainCount}, test={options.TestCount} are out of range."),
                hint: string.Create(CultureInfo.InvariantCulture, $"Use 1..{max} images per split."));
    }

    private static string CacheKey(SyntheticDataOptions options) => string.Create(CultureInfo.InvariantCulture,
        $"compress-synthetic generator={GeneratorVersion} seed={options.Seed} train={options.TrainCount} " +
        $"test={options.TestCount}");

    private static string Manifest(SyntheticDataOptions options) => CacheKey(options) + "\n";

    private static string TrainFileName(int index) =>
        "data_batch_" + (index + 1).ToString(CultureInfo.InvariantCulture) + ".bin";

    private static int BatchCount(int total, int index) => (total / TrainFiles) + (index < total % TrainFiles ? 1 : 0);

    private static void WriteRecords(string path, byte[] labels, byte[] pixels, int start, int count)
    {
        const int pixelBytes = CifarBinaryReader.RecordSize - 1;
        var data = new byte[(long)count * CifarBinaryReader.RecordSize];
        for (int i = 0; i < count; i++)
        {
            int offset = i * CifarBinaryReader.RecordSize;
            data[offset] = labels[start + i];
            pixels.AsSpan((start + i) * pixelBytes, pixelBytes).CopyTo(data.AsSpan(offset + 1));
        }
        WriteAtomically(path, data);
    }

    private static void WriteAtomically(string path, byte[] data)
    {
        // Staged while a transaction owns the folder; a unique temporary name, as two processes may fill one cache folder.
        string target = Reporting.AtomicFile.TargetOf(Path.GetFullPath(path));
        string temp = Reporting.AtomicFile.TemporaryPathFor(target);
        try
        {
            File.WriteAllBytes(temp, data);
            File.Move(temp, target, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }
}

using System.Globalization;
using Compress.Engine.Diagnostics;

namespace Compress.Engine.Data;

/// <summary>
/// Turns the user's <c>--data</c> value into train and test datasets, detecting the format so that one option covers
/// every supported layout.
/// </summary>
public static class DatasetLoader
{
    /// <summary>The spec that selects the built-in synthetic dataset.</summary>
    public const string SyntheticSpec = "synthetic";

    /// <summary>
    /// Loads <paramref name="spec"/>: <c>synthetic</c> (see <see cref="SyntheticImages"/>), or a folder holding
    /// CIFAR-10 binary files (or the folder that contains <c>cifar-10-batches-bin/</c>), MNIST IDX files (plain or
    /// <c>.gz</c>), or <c>train/</c> and <c>test/</c> image folders with one sub-folder per class. Checked in that
    /// order. All malformed input ends as a <see cref="CompressException"/> (CMP02xx).
    /// </summary>
    /// <param name="spec">The data option's value.</param>
    /// <param name="synthetic">Options for <c>synthetic</c> (default: <see cref="SyntheticDataOptions"/> defaults).</param>
    /// <param name="sink">Receives a progress line naming what was loaded.</param>
    /// <param name="target">The model's input: when given, an image folder's images (of any sizes) are brought to
    /// its channels and size one by one (<see cref="DatasetAdapter"/>), and so are the other kinds' when
    /// <paramref name="fitEveryKind"/> is set (a model with a fixed input size, such as an imported ONNX file).</param>
    /// <param name="fitEveryKind">Bring CIFAR, MNIST and synthetic images to <paramref name="target"/> too.</param>
    public static DatasetSplits Load(string spec, SyntheticDataOptions? synthetic = null, IDiagnosticSink? sink = null,
        ImageShape? target = null, bool fitEveryKind = true)
    {
        if (string.IsNullOrWhiteSpace(spec))
            throw new CompressException(DiagnosticCode.DatasetNotFound, "No dataset was given.", hint: Hint);
        string kind;
        DatasetSplits splits;
        if (string.Equals(spec.Trim(), SyntheticSpec, StringComparison.OrdinalIgnoreCase))
        {
            kind = "synthetic";
            splits = SyntheticImages.Load(synthetic ?? new SyntheticDataOptions(), sink);
        }
        else
        {
            string folder;
            try
            {
                folder = Path.GetFullPath(spec);
            }
            catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
            {
                throw new CompressException(DiagnosticCode.DatasetNotFound, $"'{spec}' is not a valid path: {e.Message}",
                    spec, Hint, e);
            }
            if (File.Exists(folder))
                throw new CompressException(DiagnosticCode.DatasetNotFound,
                    $"'{folder}' is a file; the dataset must be a folder.", folder, Hint);
            if (!Directory.Exists(folder))
                throw new CompressException(DiagnosticCode.DatasetNotFound,
                    $"Dataset folder '{folder}' does not exist.", folder, Hint);
            (kind, splits) = LoadFolder(folder, target);
        }
        var train = splits.Train;
        foreach (var (name, split) in new[] { ("train", splits.Train), ("test", splits.Test) })
            if (split.Count == 0)
                throw new CompressException(DiagnosticCode.EmptyDatasetSplit,
                    $"The {name} split of {split.Source} has no images: there is nothing to {(name == "train" ? "train or fine-tune on" : "measure accuracy on")}.",
                    spec.Equals(SyntheticSpec, StringComparison.OrdinalIgnoreCase) ? null : Path.GetFullPath(spec),
                    $"Add images to the {name} split (for an image folder: {name}/<class>/*.png), or use 'synthetic'.");
        sink?.Progress(string.Create(CultureInfo.InvariantCulture,
            $"Loaded {kind} data from {train.Source}: {train.Count} train, {splits.Test.Count} test images of " +
            $"{train.Shape}, {train.ClassCount} classes"));
        return target is null || (!fitEveryKind && kind != "image-folder") ? splits : DatasetAdapter.Fit(splits, target, sink);
    }

    private const string Hint =
        "Point --data at a folder with CIFAR-10 binary files (data_batch_1..5.bin, test_batch.bin), MNIST IDX files " +
        "(train-images-idx3-ubyte, ...), or train/ and test/ folders with one sub-folder per class; or use 'synthetic'.";

    private static (string Kind, DatasetSplits Splits) LoadFolder(string folder, ImageShape? target)
    {
        try
        {
            if (CifarBinaryReader.FindDataFolder(folder) is not null)
                return ("CIFAR-10 binary", CifarBinaryReader.Read(folder));
            if (MnistIdxReader.LooksLikeMnist(folder)) return ("MNIST IDX", MnistIdxReader.Read(folder));
            if (ImageFolderReader.LooksLikeImageFolder(folder)) return ("image-folder", ImageFolderReader.Read(folder, target));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Listing a folder can fail too (permissions, a folder removed while we look).
            throw new CompressException(DiagnosticCode.DatasetNotFound, $"'{folder}' could not be read: {e.Message}",
                folder, Hint, e);
        }
        throw new CompressException(DiagnosticCode.DatasetNotFound,
            $"'{folder}' holds no dataset this tool reads: expected CIFAR-10 binary files (data_batch_N.bin and " +
            $"test_batch.bin, or a {CifarBinaryReader.ArchiveFolderName}/ sub-folder), MNIST IDX files " +
            $"({string.Join(", ", MnistIdxReader.FileNames)}), or train/ and test/ sub-folders of class folders.",
            folder, Hint);
    }
}

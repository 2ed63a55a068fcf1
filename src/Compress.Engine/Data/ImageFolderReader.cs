using System.Globalization;
using System.Runtime.InteropServices;
using Compress.Engine.Diagnostics;
using SkiaSharp;

namespace Compress.Engine.Data;

/// <summary>
/// Reads an image-folder dataset: <c>train/</c> and <c>test/</c>, each with one sub-folder per class holding PNG or
/// JPEG files (torchvision's ImageFolder layout). Images are decoded with SkiaSharp once, up front; all must share
/// one size. They are kept as RGB, or as one grey channel when every image is greyscale.
/// </summary>
public static class ImageFolderReader
{
    /// <summary>Name of the training sub-folder.</summary>
    public const string TrainFolderName = "train";

    /// <summary>Name of the test sub-folder.</summary>
    public const string TestFolderName = "test";

    /// <summary>File extensions read as images (case-insensitive); other files are ignored.</summary>
    public static IReadOnlyList<string> Extensions { get; } = [".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp"];

    private const string Hint =
        "Lay the folder out as train/<class>/*.png and test/<class>/*.png with one sub-folder per class.";

    /// <summary>True when <paramref name="folder"/> has a <see cref="TrainFolderName"/> sub-folder.</summary>
    public static bool LooksLikeImageFolder(string folder) => Directory.Exists(Path.Combine(folder, TrainFolderName));

    /// <summary>
    /// Reads both splits. Classes are the training split's sub-folders in ordinal order of their names; the test split
    /// may lack a class but may not add one. Without <paramref name="target"/> all images must share one size (else
    /// CMP0203). With it (the model's input), images of any sizes are converted one by one: grey, RGB and RGBA
    /// (composited over black) to the target's channels, the shorter side resized
    /// (<see cref="DatasetAdapter.ShorterSide"/>) and the centre cropped to the target size. A file that cannot be
    /// decoded is CMP0204, missing folders or no images CMP0201.
    /// </summary>
    public static DatasetSplits Read(string folder, ImageShape? target = null)
    {
        ArgumentNullException.ThrowIfNull(folder);
        string trainDir = Path.Combine(folder, TrainFolderName);
        string testDir = Path.Combine(folder, TestFolderName);
        foreach (string dir in new[] { trainDir, testDir })
            if (!Directory.Exists(dir))
                throw new CompressException(DiagnosticCode.DatasetNotFound,
                    $"Image-folder dataset '{folder}' has no '{Path.GetFileName(dir)}' sub-folder.", folder, Hint);
        string[] classes = ClassFolders(trainDir);
        if (classes.Length == 0)
            throw new CompressException(DiagnosticCode.DatasetNotFound,
                $"'{trainDir}' has no class sub-folders.", trainDir, Hint);
        if (classes.Length > 256)
            throw new CompressException(DiagnosticCode.DatasetMalformed, string.Create(CultureInfo.InvariantCulture,
                $"'{trainDir}' has {classes.Length} class folders; at most 256 are supported."), trainDir);
        foreach (string testClass in ClassFolders(testDir))
            if (Array.BinarySearch(classes, testClass, StringComparer.Ordinal) < 0)
                throw new CompressException(DiagnosticCode.DatasetMalformed,
                    $"'{testDir}' has class folder '{testClass}', which '{trainDir}' lacks.",
                    Path.Combine(testDir, testClass), "Give both splits the same class folders.");

        var train = ListImages(trainDir, classes);
        var test = ListImages(testDir, classes);
        if (train.Count == 0)
            throw new CompressException(DiagnosticCode.DatasetNotFound,
                $"'{trainDir}' holds no images ({string.Join(", ", Extensions)}).", trainDir, Hint);

        if (target is not null) return ReadResized(train, test, classes, trainDir, testDir, target);

        // Decode everything first: whether the dataset is greyscale is only known once every image has been seen.
        var decoded = new List<Decoded>(train.Count + test.Count);
        foreach (var (path, _) in train.Concat(test))
        {
            var image = Decode(path);
            if (decoded.Count > 0 && (image.Width != decoded[0].Width || image.Height != decoded[0].Height))
                throw new CompressException(DiagnosticCode.DatasetMalformed, string.Create(CultureInfo.InvariantCulture,
                    $"'{path}' is {image.Width}x{image.Height} but '{train[0].Path}' is " +
                    $"{decoded[0].Width}x{decoded[0].Height}; all images must have one size."), path,
                    "Resize the images to one size first.");
            decoded.Add(image);
        }
        bool grey = decoded.TrueForAll(d => d.Grey);
        var shape = new ImageShape(grey ? 1 : 3, decoded[0].Height, decoded[0].Width);
        return new DatasetSplits(
            Build(shape, train, decoded, 0, classes, trainDir),
            Build(shape, test, decoded, train.Count, classes, testDir));
    }

    private readonly record struct Decoded(int Width, int Height, bool Grey, byte[] Planes);

    /// <summary>Every image decoded and brought to <paramref name="target"/> on its own, so sizes may differ.</summary>
    private static DatasetSplits ReadResized(List<(string Path, byte Label)> train, List<(string Path, byte Label)> test,
        string[] classes, string trainDir, string testDir, ImageShape target)
    {
        InMemoryImageDataset Split(List<(string Path, byte Label)> files, string source)
        {
            int size = target.Size;
            var pixels = new byte[(long)files.Count * size];
            var labels = new byte[files.Count];
            for (int i = 0; i < files.Count; i++)
            {
                var image = Decode(files[i].Path);
                var rgb = new ImageShape(3, image.Height, image.Width);
                byte[] planes = image.Grey && target.Channels == 1 ? image.Planes[..(image.Width * image.Height)] : image.Planes;
                var shape = image.Grey && target.Channels == 1 ? new ImageShape(1, image.Height, image.Width) : rgb;
                int? shorter = shape.Height == target.Height && shape.Width == target.Width ? null : DatasetAdapter.ShorterSide(shape, target);
                DatasetAdapter.Image(planes, shape, target, shorter).CopyTo(pixels.AsSpan(i * size, size));
                labels[i] = files[i].Label;
            }
            return new InMemoryImageDataset(target, pixels, labels, classes, source);
        }

        int side = Math.Max(target.Height, target.Width);
        return new DatasetSplits(Split(train, trainDir), Split(test, testDir))
        {
            ResizeShorterSide = (int)Math.Round(side / DatasetAdapter.CropFraction),
        };
    }

    private static string[] ClassFolders(string dir)
    {
        string[] names = [.. Directory.EnumerateDirectories(dir).Select(Path.GetFileName).OfType<string>()
            .Where(n => !n.StartsWith('.'))];
        Array.Sort(names, StringComparer.Ordinal);
        return names;
    }

    private static List<(string Path, byte Label)> ListImages(string dir, string[] classes)
    {
        var list = new List<(string, byte)>();
        for (int c = 0; c < classes.Length; c++)
        {
            string classDir = Path.Combine(dir, classes[c]);
            if (!Directory.Exists(classDir)) continue;
            string[] files = [.. Directory.EnumerateFiles(classDir)
                .Where(f => !Path.GetFileName(f).StartsWith('.') &&
                            Extensions.Contains(Path.GetExtension(f), StringComparer.OrdinalIgnoreCase))];
            Array.Sort(files, StringComparer.Ordinal);
            list.AddRange(files.Select(f => (f, (byte)c)));
        }
        return list;
    }

    /// <summary>Decodes one file into three CHW planes (R, G, B; composited over black) and whether it is greyscale.</summary>
    private static Decoded Decode(string path)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CompressException(DiagnosticCode.DatasetNotFound, $"'{path}' could not be read: {e.Message}",
                path, "Check that the file exists and is readable.", e);
        }
        try
        {
            using var data = SKData.CreateCopy(bytes);
            using var codec = SKCodec.Create(data) ?? throw DecodeFailed(path, "not a PNG/JPEG image SkiaSharp knows");
            var info = codec.Info;
            if (info.Width <= 0 || info.Height <= 0 || (long)info.Width * info.Height > 1 << 26)
                throw DecodeFailed(path, string.Create(CultureInfo.InvariantCulture,
                    $"unsupported size {info.Width}x{info.Height}"));
            bool grey = info.ColorType == SKColorType.Gray8;
            using var bitmap = new SKBitmap(new SKImageInfo(info.Width, info.Height, SKColorType.Rgba8888,
                SKAlphaType.Premul));
            var result = codec.GetPixels(bitmap.Info, bitmap.GetPixels());
            if (result != SKCodecResult.Success)
                throw DecodeFailed(path, "decoder reported " + result.ToString());
            int n = info.Width * info.Height;
            var planes = new byte[3 * n];
            ReadOnlySpan<byte> rgba = bitmap.GetPixelSpan();
            for (int i = 0; i < n; i++)
            {
                planes[i] = rgba[4 * i];
                planes[n + i] = rgba[(4 * i) + 1];
                planes[(2 * n) + i] = rgba[(4 * i) + 2];
            }
            return new Decoded(info.Width, info.Height, grey, planes);
        }
        catch (Exception e) when (e is DllNotFoundException or TypeInitializationException or EntryPointNotFoundException
                                      or MarshalDirectiveException)
        {
            throw new CompressException(DiagnosticCode.ImageDecodeFailed,
                $"SkiaSharp's native library could not be loaded to decode '{path}': {e.Message}", path,
                "Reinstall so that libSkiaSharp for this platform sits beside the engine.", e);
        }
    }

    private static CompressException DecodeFailed(string path, string why) =>
        new(DiagnosticCode.ImageDecodeFailed, $"'{path}' could not be decoded as an image: {why}.", path,
            "Remove or replace the file.");

    private static InMemoryImageDataset Build(ImageShape shape, List<(string Path, byte Label)> files,
        List<Decoded> decoded, int first, string[] classes, string source)
    {
        int size = shape.Size;
        var pixels = new byte[(long)files.Count * size];
        var labels = new byte[files.Count];
        for (int i = 0; i < files.Count; i++)
        {
            decoded[first + i].Planes.AsSpan(0, size).CopyTo(pixels.AsSpan(i * size, size));
            labels[i] = files[i].Label;
        }
        return new InMemoryImageDataset(shape, pixels, labels, classes, source);
    }
}

using System.Globalization;
using Compress.Engine.Diagnostics;

namespace Compress.Engine.Data;

/// <summary>
/// Makes a dataset fit a model's input: channels converted (grey to RGB or RGB to grey) and images resized so the
/// shorter side is <see cref="ShorterSide"/>, then centre-cropped to the input size (torchvision's evaluation
/// transform: for images larger than the input, the shorter side goes to input / 0.875, e.g. 256 for 224; smaller
/// images are enlarged to the input size). Both splits get the same transform, once, when the data is loaded.
/// </summary>
public static class DatasetAdapter
{
    /// <summary>torchvision's crop fraction: 224 of 256.</summary>
    public const double CropFraction = 0.875;

    /// <summary>The shorter side images of <paramref name="source"/> are resized to for an input of <paramref name="target"/>.</summary>
    public static int ShorterSide(ImageShape source, ImageShape target)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(target);
        int side = Math.Max(target.Height, target.Width);
        return Math.Min(source.Height, source.Width) > side ? (int)Math.Round(side / CropFraction) : side;
    }

    /// <summary>
    /// <paramref name="splits"/> at <paramref name="target"/>'s channels and size (unchanged when they already fit); the
    /// result records the shorter side used (<see cref="DatasetSplits.ResizeShorterSide"/>).
    /// </summary>
    public static DatasetSplits Fit(DatasetSplits splits, ImageShape target, IDiagnosticSink? sink = null)
    {
        ArgumentNullException.ThrowIfNull(splits);
        ArgumentNullException.ThrowIfNull(target);
        var shape = splits.Train.Shape;
        if (shape == target) return splits;
        if (shape.Channels is not (1 or 3) || target.Channels is not (1 or 3))
            throw new CompressException(DiagnosticCode.DatasetModelMismatch, string.Create(CultureInfo.InvariantCulture,
                $"The images have {shape.Channels} channel(s) and the model takes {target.Channels}; only grey and RGB convert."),
                splits.Train.Source, "Choose a model that matches the data.");
        bool resize = shape.Height != target.Height || shape.Width != target.Width;
        int shorter = ShorterSide(shape, target);
        sink?.Progress(FormattableString.Invariant($"data: {shape} images to the model's {target}") +
            (resize ? FormattableString.Invariant($" (shorter side to {shorter}, centre crop)") : "") +
            (shape.Channels != target.Channels ? (target.Channels == 3 ? ", grey to RGB" : ", RGB to grey") : ""));
        return new DatasetSplits(Convert(splits.Train, target, resize ? shorter : null), Convert(splits.Test, target, resize ? shorter : null))
        {
            ResizeShorterSide = resize ? shorter : splits.ResizeShorterSide,
        };
    }

    /// <summary>One image of <paramref name="from"/> at <paramref name="target"/> (channels, then size).</summary>
    internal static byte[] Image(ReadOnlySpan<byte> pixels, ImageShape from, ImageShape target, int? shorter)
    {
        byte[] converted = ImageResize.ConvertChannels(pixels, from, target.Channels);
        if (shorter is not int side) return converted;
        var convertedShape = new ImageShape(target.Channels, from.Height, from.Width);
        return ImageResize.ShorterSideCenterCrop(converted, convertedShape, side, target);
    }

    private static InMemoryImageDataset Convert(IImageDataset data, ImageShape target, int? shorter)
    {
        int size = target.Size;
        var pixels = new byte[(long)data.Count * size];
        var labels = new byte[data.Count];
        for (int i = 0; i < data.Count; i++)
        {
            Image(data.GetPixels(i), data.Shape, target, shorter).CopyTo(pixels.AsSpan(i * size, size));
            labels[i] = checked((byte)data.GetLabel(i));
        }
        return new InMemoryImageDataset(target, pixels, labels, data.ClassNames, data.Source);
    }
}

using System.Globalization;
using Compress.Engine.Diagnostics;

namespace Compress.Engine.Data;

/// <summary>
/// An <see cref="IImageDataset"/> over one contiguous uint8 CHW buffer (image <c>i</c> at
/// <c>i * Shape.Size</c>). Every reader produces one; tests and callers can build one from their own pixels.
/// </summary>
public sealed class InMemoryImageDataset : IImageDataset
{
    private readonly byte[] _pixels;
    private readonly byte[] _labels;
    private readonly string[] _classNames;

    /// <summary>Wraps the buffers without copying them (the caller must not change them afterwards).</summary>
    /// <param name="shape">Shape of every image.</param>
    /// <param name="pixels">uint8 CHW pixels of all images back to back, <c>labels.Length * shape.Size</c> bytes.</param>
    /// <param name="labels">One label per image, each below <c>classNames.Count</c>.</param>
    /// <param name="classNames">Class names; their count is the class count (at most 256).</param>
    /// <param name="source">Where the data came from, for messages.</param>
    public InMemoryImageDataset(ImageShape shape, byte[] pixels, byte[] labels, IReadOnlyList<string> classNames,
        string source)
    {
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentNullException.ThrowIfNull(pixels);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(classNames);
        ArgumentNullException.ThrowIfNull(source);
        if (shape.Channels <= 0 || shape.Height <= 0 || shape.Width <= 0)
            throw new ArgumentException($"Image shape {shape} has a non-positive dimension.", nameof(shape));
        if (classNames.Count is 0 or > 256)
            throw new ArgumentException(
                string.Create(CultureInfo.InvariantCulture, $"Class count {classNames.Count} is not in 1..256."),
                nameof(classNames));
        if ((long)labels.Length * shape.Size != pixels.LongLength)
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"{pixels.LongLength} pixel bytes do not hold {labels.Length} images of {shape}."), nameof(pixels));
        int bad = Array.FindIndex(labels, l => l >= classNames.Count);
        if (bad >= 0)
            throw new CompressException(DiagnosticCode.DatasetMalformed, string.Create(CultureInfo.InvariantCulture,
                $"Image {bad} of {source} has label {labels[bad]}, but there are only {classNames.Count} classes."),
                source);
        _pixels = pixels;
        _labels = labels;
        _classNames = [.. classNames];
        Shape = shape;
        Source = source;
    }

    /// <inheritdoc />
    public int Count => _labels.Length;

    /// <inheritdoc />
    public ImageShape Shape { get; }

    /// <inheritdoc />
    public int ClassCount => _classNames.Length;

    /// <inheritdoc />
    public IReadOnlyList<string> ClassNames => _classNames;

    /// <inheritdoc />
    public string Source { get; }

    /// <inheritdoc />
    public int GetLabel(int index) => _labels[index];

    /// <inheritdoc />
    public ReadOnlySpan<byte> GetPixels(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, _labels.Length);
        int size = Shape.Size;
        return _pixels.AsSpan(index * size, size);
    }

    /// <summary>The same images and labels under another <see cref="Source"/> (no copy).</summary>
    public InMemoryImageDataset WithSource(string source) => new(Shape, _pixels, _labels, _classNames, source);
}

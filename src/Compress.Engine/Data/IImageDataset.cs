namespace Compress.Engine.Data;

/// <summary>
/// A labelled image dataset held in memory as uint8 CHW pixels. Readers decode once into this form so that batching,
/// augmentation and normalisation never touch the disk or a decoder while training.
/// </summary>
public interface IImageDataset
{
    /// <summary>Number of images.</summary>
    int Count { get; }

    /// <summary>The shape every image has.</summary>
    ImageShape Shape { get; }

    /// <summary>Number of classes; labels lie in <c>[0, ClassCount)</c>.</summary>
    int ClassCount { get; }

    /// <summary>Human-readable class names, <see cref="ClassCount"/> of them.</summary>
    IReadOnlyList<string> ClassNames { get; }

    /// <summary>The label of image <paramref name="index"/>.</summary>
    int GetLabel(int index);

    /// <summary>The pixels of image <paramref name="index"/>: uint8 CHW, length <c>Shape.Size</c>.</summary>
    ReadOnlySpan<byte> GetPixels(int index);

    /// <summary>Where the data came from (a path, or <c>synthetic(seed=..)</c>), for messages.</summary>
    string Source { get; }
}

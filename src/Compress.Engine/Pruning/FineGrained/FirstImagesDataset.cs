using Compress.Engine.Data;

namespace Compress.Engine.Pruning.FineGrained;

/// <summary>The first <c>count</c> images of another dataset, without copying (the scan's batch limit).</summary>
internal sealed class FirstImagesDataset(IImageDataset inner, int count) : IImageDataset
{
    public int Count { get; } = Math.Min(count, inner.Count);

    public ImageShape Shape => inner.Shape;

    public int ClassCount => inner.ClassCount;

    public IReadOnlyList<string> ClassNames => inner.ClassNames;

    public string Source => inner.Source;

    public int GetLabel(int index)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
        return inner.GetLabel(index);
    }

    public ReadOnlySpan<byte> GetPixels(int index)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
        return inner.GetPixels(index);
    }
}

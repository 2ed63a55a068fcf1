using System.Globalization;
using Compress.Engine.Diagnostics;

namespace Compress.Engine.Data;

/// <summary>
/// Per-channel mean and standard deviation of pixel values scaled to [0, 1]; the loader maps a pixel <c>p</c> of
/// channel <c>c</c> to <c>(p / 255 - Mean[c]) / Std[c]</c>, as torchvision's <c>ToTensor</c> + <c>Normalize</c> do,
/// so weights trained in PyTorch see the same inputs here.
/// </summary>
/// <param name="Mean">Per-channel mean of <c>pixel / 255</c>.</param>
/// <param name="Std">Per-channel standard deviation of <c>pixel / 255</c>; positive.</param>
public sealed record Normalization(float[] Mean, float[] Std)
{
    /// <summary>The CIFAR-10 training-set statistics used by the common PyTorch CIFAR recipes.</summary>
    public static Normalization Cifar10 { get; } =
        new([0.4914f, 0.4822f, 0.4465f], [0.2470f, 0.2435f, 0.2616f]);

    /// <summary>torchvision's ImageNet statistics, which ImageNet-trained (and most torchvision-exported) models expect.</summary>
    public static Normalization ImageNet { get; } =
        new([0.485f, 0.456f, 0.406f], [0.229f, 0.224f, 0.225f]);

    /// <summary>No normalisation: pixels scaled to [0, 1] only (mean 0, std 1 per channel).</summary>
    public static Normalization ScaleOnly(int channels) =>
        new(Enumerable.Repeat(0f, channels).ToArray(), Enumerable.Repeat(1f, channels).ToArray());

    /// <summary>Number of channels this normalisation is for.</summary>
    public int Channels => Mean.Length;

    /// <summary>
    /// Mean and (population) standard deviation of every channel over all pixels of <paramref name="dataset"/>,
    /// accumulated exactly in integers. A channel with zero spread gets standard deviation 1, so it is only shifted.
    /// </summary>
    public static Normalization FromDataset(IImageDataset dataset)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        var shape = dataset.Shape;
        int plane = shape.Height * shape.Width;
        var sum = new long[shape.Channels];
        var sumSquares = new long[shape.Channels];
        for (int i = 0; i < dataset.Count; i++)
        {
            var pixels = dataset.GetPixels(i);
            for (int c = 0; c < shape.Channels; c++)
            {
                long s = 0, q = 0;
                foreach (byte p in pixels.Slice(c * plane, plane))
                {
                    s += p;
                    q += p * p;
                }
                sum[c] += s;
                sumSquares[c] += q;
            }
        }
        double n = Math.Max(1.0, (double)dataset.Count * plane);
        var mean = new float[shape.Channels];
        var std = new float[shape.Channels];
        for (int c = 0; c < shape.Channels; c++)
        {
            double m = sum[c] / n;
            double variance = Math.Max(0, (sumSquares[c] / n) - (m * m));
            mean[c] = (float)(m / 255);
            std[c] = variance > 0 ? (float)(Math.Sqrt(variance) / 255) : 1f;
        }
        return new Normalization(mean, std);
    }

    /// <summary>Throws CMP0205 unless this fits <paramref name="channels"/> channels and every std is positive and finite.</summary>
    public void Validate(int channels)
    {
        if (Mean is null || Std is null || Mean.Length != channels || Std.Length != channels)
            throw new CompressException(DiagnosticCode.DatasetModelMismatch, string.Create(CultureInfo.InvariantCulture,
                $"Normalisation has {Mean?.Length ?? 0} means and {Std?.Length ?? 0} standard deviations but the " +
                $"images have {channels} channels."), hint: "Give one mean and one standard deviation per channel.");
        for (int c = 0; c < channels; c++)
            if (!float.IsFinite(Mean[c]) || !float.IsFinite(Std[c]) || Std[c] <= 0)
                throw new CompressException(DiagnosticCode.DatasetModelMismatch, string.Create(
                    CultureInfo.InvariantCulture,
                    $"Normalisation of channel {c} (mean {Mean[c]}, std {Std[c]}) is not usable."),
                    hint: "Standard deviations must be positive and finite.");
    }

    /// <summary>
    /// The normalised value of every byte for every channel (<c>[channel * 256 + byte]</c>), computed once so that
    /// per-pixel work is one table look-up and every pixel gets exactly <c>(p / 255f - mean) / std</c>.
    /// </summary>
    internal float[] LookupTable()
    {
        var table = new float[Channels * 256];
        for (int c = 0; c < Channels; c++)
            for (int p = 0; p < 256; p++)
                table[(c * 256) + p] = ((p / 255f) - Mean[c]) / Std[c];
        return table;
    }

    /// <summary>Table for plain <c>p / 255</c> scaling (no normalisation).</summary>
    internal static float[] ScaleOnlyTable(int channels)
    {
        var table = new float[channels * 256];
        for (int c = 0; c < channels; c++)
            for (int p = 0; p < 256; p++)
                table[(c * 256) + p] = p / 255f;
        return table;
    }

    /// <inheritdoc />
    public bool Equals(Normalization? other) =>
        other is not null && Mean.AsSpan().SequenceEqual(other.Mean) && Std.AsSpan().SequenceEqual(other.Std);

    /// <inheritdoc />
    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (float m in Mean) hash.Add(m);
        foreach (float s in Std) hash.Add(s);
        return hash.ToHashCode();
    }
}

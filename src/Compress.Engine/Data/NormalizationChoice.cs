using System.Globalization;
using Compress.Engine.Diagnostics;

namespace Compress.Engine.Data;

/// <summary>
/// How the user asks for inputs to be normalised: <c>dataset</c> (the training split's per-channel statistics),
/// <c>imagenet</c> (torchvision's), <c>none</c> (pixels / 255 only), or explicit values written
/// <c>MEAN/STD</c> with comma-separated numbers per channel, e.g. <c>0.5,0.5,0.5/0.25,0.25,0.25</c>. Parsed once at the
/// boundary (CLI, spec, build metadata); <see cref="Text"/> is the canonical spelling recorded in reports.
/// </summary>
public sealed record NormalizationChoice
{
    private NormalizationChoice(string text, Normalization? explicitValues)
    {
        Text = text;
        Explicit = explicitValues;
    }

    /// <summary>The training split's statistics (the built-in architectures' default).</summary>
    public static NormalizationChoice Dataset { get; } = new("dataset", null);

    /// <summary>torchvision's ImageNet statistics (the default for an imported 3-channel ONNX model without a
    /// recorded contract).</summary>
    public static NormalizationChoice ImageNet { get; } = new("imagenet", null);

    /// <summary>Pixels / 255 only.</summary>
    public static NormalizationChoice None { get; } = new("none", null);

    /// <summary>Canonical text: <c>dataset</c>, <c>imagenet</c>, <c>none</c> or <c>MEAN/STD</c>.</summary>
    public string Text { get; }

    /// <summary>The explicit values, or null for the named choices.</summary>
    public Normalization? Explicit { get; }

    /// <summary>Parses <paramref name="text"/>; CMP0001 naming <paramref name="what"/> when it is none of the forms.</summary>
    public static NormalizationChoice Parse(string text, string what = "--normalize")
    {
        ArgumentNullException.ThrowIfNull(text);
        string t = text.Trim();
        switch (t.ToLowerInvariant())
        {
            case "dataset": return Dataset;
            case "imagenet": return ImageNet;
            case "none": return None;
        }
        string[] parts = t.Split('/');
        if (parts.Length == 2 && Numbers(parts[0]) is { } mean && Numbers(parts[1]) is { } std && mean.Length == std.Length &&
            mean.Length > 0 && std.All(s => s > 0 && float.IsFinite(s)) && mean.All(float.IsFinite))
        {
            var values = new Normalization(mean, std);
            string canonical = string.Join(",", mean.Select(Format)) + "/" + string.Join(",", std.Select(Format));
            return new NormalizationChoice(canonical, values);
        }
        throw new CompressException(DiagnosticCode.InvalidOption,
            $"{what} '{text}' is not 'dataset', 'imagenet', 'none' or MEAN/STD (one number per channel on each side, std > 0).",
            hint: "Example: imagenet, or 0.5,0.5,0.5/0.25,0.25,0.25 (values for pixels scaled to [0, 1]).");
    }

    /// <summary>The normalisation for a run: explicit values, ImageNet's, pixels only, or the statistics of
    /// <paramref name="train"/>; CMP0205 when it does not fit the images' channels.</summary>
    public Normalization Resolve(IImageDataset train)
    {
        ArgumentNullException.ThrowIfNull(train);
        int channels = train.Shape.Channels;
        var result = Explicit ?? Text switch
        {
            "imagenet" => channels == 3 ? Normalization.ImageNet : throw new CompressException(DiagnosticCode.DatasetModelMismatch,
                $"ImageNet normalisation is for 3-channel images; the data has {channels.ToString(CultureInfo.InvariantCulture)}.",
                train.Source, "Use --normalize dataset, none, or MEAN/STD with one value per channel."),
            "none" => Normalization.ScaleOnly(channels),
            _ => Normalization.FromDataset(train),
        };
        result.Validate(channels);
        return result;
    }

    private static float[]? Numbers(string text)
    {
        var items = text.Split(',', StringSplitOptions.TrimEntries);
        var result = new float[items.Length];
        for (int i = 0; i < items.Length; i++)
            if (!float.TryParse(items[i], NumberStyles.Float, CultureInfo.InvariantCulture, out result[i])) return null;
        return result;
    }

    private static string Format(float value) => value.ToString("R", CultureInfo.InvariantCulture);
}

using System.Globalization;
using System.Text.Json;

namespace Compress.Engine.Data;

/// <summary>
/// The preprocessing contract of an artifact: what an app must do to an image before the model sees it. Written into
/// the ONNX file's metadata (<see cref="ToMetadata"/>, keys documented in docs/artifact.md) and the report, so the app
/// reads it from the model instead of recomputing it. A pixel <c>p</c> (0 to 255) of channel <c>c</c> becomes
/// <c>(p / 255 - Mean[c]) / Std[c]</c>; images are resized so the shorter side is <see cref="ResizeShorterSide"/>
/// (when set) and centre-cropped to <see cref="Height"/> x <see cref="Width"/>; the tensor is NCHW, channels in
/// <see cref="ChannelOrder"/>. With <see cref="Embedded"/> the model does the normalisation itself and takes raw
/// pixel values 0 to 255.
/// </summary>
/// <param name="Normalization">Per-channel mean and std of pixels scaled to [0, 1].</param>
/// <param name="NormalizationSource">How it was chosen: <c>dataset</c>, <c>imagenet</c>, <c>none</c>, explicit
/// <c>MEAN/STD</c>, or <c>model</c> (the imported file's own contract).</param>
/// <param name="ChannelOrder"><c>RGB</c> or <c>L</c> (one grey channel).</param>
/// <param name="Height">Input height.</param>
/// <param name="Width">Input width.</param>
/// <param name="ResizeShorterSide">The shorter side images are resized to before the centre crop, or null when the
/// images already have the input size.</param>
/// <param name="Labels">Class names in logit order, or null when the data has none.</param>
/// <param name="Embedded">The model normalises itself (Sub and Div nodes after the input).</param>
public sealed record Preprocessing(Normalization Normalization, string NormalizationSource, string ChannelOrder, int Height,
    int Width, int? ResizeShorterSide, IReadOnlyList<string>? Labels, bool Embedded)
{
    /// <summary>Prefix of every contract key.</summary>
    public const string KeyPrefix = "compress.preprocess.";

    /// <summary>The metadata key of the class names (a JSON array of strings).</summary>
    public const string LabelsKey = "compress.labels";

    /// <summary>The contract as ONNX metadata: <c>compress.preprocess.mean</c>, <c>.std</c>, <c>.scale</c>,
    /// <c>.layout</c>, <c>.channel_order</c>, <c>.input_size</c>, <c>.resize</c>, <c>.embedded</c>,
    /// <c>.normalization</c>, and <c>compress.labels</c>.</summary>
    public IReadOnlyDictionary<string, string> ToMetadata()
    {
        var c = CultureInfo.InvariantCulture;
        var metadata = new Dictionary<string, string>
        {
            [KeyPrefix + "mean"] = string.Join(",", Normalization.Mean.Select(m => m.ToString("R", c))),
            [KeyPrefix + "std"] = string.Join(",", Normalization.Std.Select(s => s.ToString("R", c))),
            [KeyPrefix + "scale"] = "1/255",
            [KeyPrefix + "layout"] = "NCHW",
            [KeyPrefix + "channel_order"] = ChannelOrder,
            [KeyPrefix + "input_size"] = string.Create(c, $"{Height}x{Width}"),
            [KeyPrefix + "resize"] = ResizeShorterSide is int s
                ? string.Create(c, $"shorter side to {s}, centre crop {Height}x{Width}")
                : "none",
            [KeyPrefix + "embedded"] = Embedded ? "true" : "false",
            [KeyPrefix + "normalization"] = NormalizationSource,
        };
        if (Labels is not null) metadata[LabelsKey] = JsonSerializer.Serialize(Labels);
        return metadata;
    }

    /// <summary>The normalisation a model with embedded preprocessing does itself (it takes raw pixels), or null when
    /// <paramref name="metadata"/> does not say it is embedded.</summary>
    public static Normalization? EmbeddedNormalization(IReadOnlyDictionary<string, string> metadata)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        return metadata.TryGetValue(KeyPrefix + "embedded", out var embedded) && embedded == "true" ? NormalizationFrom(metadata) : null;
    }

    /// <summary>The normalisation an imported file records (its <c>compress.preprocess.mean/std</c>), or null.</summary>
    public static Normalization? NormalizationFrom(IReadOnlyDictionary<string, string> metadata)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        if (!metadata.TryGetValue(KeyPrefix + "mean", out var mean) || !metadata.TryGetValue(KeyPrefix + "std", out var std)) return null;
        try
        {
            return NormalizationChoice.Parse(mean + "/" + std, "the model's compress.preprocess metadata").Explicit;
        }
        catch (Diagnostics.CompressException)
        {
            return null;
        }
    }
}

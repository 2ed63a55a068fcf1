using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using System.Text.Json.Serialization;

namespace Compress.Engine.Models;

/// <summary>Which built-in model to create and how big; validated by <see cref="ModelFactory.Create"/>.</summary>
/// <remarks>Equality and hashing compare <see cref="Channels"/> by content, so two options describing the same model
/// are equal (and an empty <see cref="Channels"/> is the same as none).</remarks>
public sealed record ModelOptions
{
    private readonly ImmutableSortedDictionary<string, int>? _channels;

    /// <summary>One of <see cref="ModelFactory.Architectures"/> (case-insensitive), or the path of an <c>.onnx</c> file
    /// to import (<see cref="Onnx.OnnxImporter"/>; then the width multiplier does not apply and the class count is the
    /// file's). Default <c>resnet18-cifar</c>, the paper's reference system.</summary>
    public string Architecture { get; init; } = "resnet18-cifar";

    /// <summary>Whether <see cref="Architecture"/> is an ONNX file rather than a built-in architecture.</summary>
    [JsonIgnore]
    public bool IsOnnx => Onnx.OnnxImporter.IsOnnxPath(Architecture);

    /// <summary>
    /// Scales every channel count (and LeNet-5's hidden widths): <c>c' = max(1, round(c * w))</c>, rounding half to
    /// even. Default 1.0 (the published sizes); small values give tiny models for tests. Must be finite and &gt; 0.
    /// </summary>
    public double WidthMultiplier { get; init; } = 1.0;

    /// <summary>Number of output classes (logits). Default 10 (CIFAR-10, MNIST). Must be at least 2.</summary>
    public int Classes { get; init; } = 10;

    /// <summary>
    /// Per-layer out channels that replace the architecture's (width-scaled) defaults: producer module name
    /// (<c>conv1</c>, <c>layer2.0.downsample.0</c>, <c>backbone.conv3</c>, LeNet-5's <c>fc1</c>) to its out channels.
    /// This is how a channel-pruned model is described; layers not named keep their default. Default null (every
    /// layer at its default). Keys must be known to the architecture, values &gt;= 1, and producers whose outputs are
    /// added (a ResNet stage's <c>conv2</c>s and downsample) equal; see <see cref="ChannelWidths.Defaults"/>. The
    /// shortcut structure (which ResNet blocks have a downsample) always follows the unpruned architecture. Stored as
    /// a sorted copy; an empty dictionary is stored as null. Left out of JSON when null, so the JSON of unpruned
    /// options (e.g. the spec runner's baseline cache key) is what it was before this property existed.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyDictionary<string, int>? Channels
    {
        get => _channels;
        init => _channels = value is null || value.Count == 0 ? null : value.ToImmutableSortedDictionary(StringComparer.Ordinal);
    }

    /// <inheritdoc/>
    public bool Equals(ModelOptions? other) =>
        other is not null &&
        string.Equals(Architecture, other.Architecture, StringComparison.Ordinal) &&
        WidthMultiplier.Equals(other.WidthMultiplier) &&
        Classes == other.Classes &&
        SameChannels(_channels, other._channels);

    /// <inheritdoc/>
    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.Add(Architecture, StringComparer.Ordinal);
        hash.Add(WidthMultiplier);
        hash.Add(Classes);
        if (_channels is not null)
        {
            foreach (var (key, value) in _channels)
            {
                hash.Add(key, StringComparer.Ordinal);
                hash.Add(value);
            }
        }
        return hash.ToHashCode();
    }

    private bool PrintMembers(StringBuilder builder)
    {
        builder.Append(CultureInfo.InvariantCulture,
            $"Architecture = {Architecture}, WidthMultiplier = {WidthMultiplier.ToString("R", CultureInfo.InvariantCulture)}, Classes = {Classes}");
        if (_channels is not null)
            builder.Append(", Channels = { ").AppendJoin(", ", _channels.Select(c => c.Key + ": " + c.Value.ToString(CultureInfo.InvariantCulture))).Append(" }");
        return true;
    }

    private static bool SameChannels(ImmutableSortedDictionary<string, int>? a, ImmutableSortedDictionary<string, int>? b)
    {
        if (a is null || b is null) return a is null && b is null;
        return a.Count == b.Count && a.All(pair => b.TryGetValue(pair.Key, out int value) && value == pair.Value);
    }
}

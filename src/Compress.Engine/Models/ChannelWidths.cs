using System.Globalization;
using Compress.Engine.Diagnostics;
using Compress.Shared;

namespace Compress.Engine.Models;

/// <summary>
/// Per-layer out-channel counts of the built-in architectures (<see cref="ModelOptions.Channels"/>): their defaults,
/// and the widths a channel-pruned checkpoint implies, so that such a checkpoint loads into a model of its own size
/// instead of failing on the first narrower tensor.
/// </summary>
public static class ChannelWidths
{
    /// <summary>
    /// Every producer module whose out channels <see cref="ModelOptions.Channels"/> may set, with its width when
    /// <see cref="ModelOptions.Channels"/> does not name it (the width-scaled published size), in module order.
    /// </summary>
    /// <exception cref="CompressException">CMP0101/CMP0102 for invalid architecture, width or class count.</exception>
    public static IReadOnlyDictionary<string, int> Defaults(ModelOptions options)
    {
        var layout = ModelFactory.Layout(ModelFactory.Canonicalize(options));
        var result = new InsertionOrderedMap<int>();
        foreach (var (module, width) in layout.Defaults) result.Add(module, width);
        return result;
    }

    /// <summary>
    /// The out channels every producer of <paramref name="options"/>' model has: <see cref="Defaults"/> with
    /// <see cref="ModelOptions.Channels"/> applied, in module order.
    /// </summary>
    /// <exception cref="CompressException">As <see cref="ModelFactory.Create"/>.</exception>
    public static IReadOnlyDictionary<string, int> Resolve(ModelOptions options)
    {
        var canonical = ModelFactory.Canonicalize(options);
        var layout = ModelFactory.Layout(canonical);
        Validate(canonical, layout);
        var result = new InsertionOrderedMap<int>();
        foreach (var (module, width) in layout.Defaults) result.Add(module, ChannelScaling.Width(canonical, module, width));
        return result;
    }

    /// <summary>
    /// The out channels <paramref name="stateDict"/> gives the producers of <paramref name="options"/>' architecture
    /// (dimension 0 of <c>&lt;module&gt;.weight</c>), only where they differ from <see cref="Defaults"/>: empty for an
    /// unpruned checkpoint of that width. Producers without a weight of rank 2 or more are skipped (loading will name
    /// them). <see cref="ModelOptions.Channels"/> of <paramref name="options"/> plays no part.
    /// </summary>
    /// <exception cref="CompressException">CMP0101/CMP0102 for invalid architecture, width or class count.</exception>
    public static IReadOnlyDictionary<string, int> FromStateDict(ModelOptions options, IReadOnlyDictionary<string, TensorData> stateDict)
    {
        ArgumentNullException.ThrowIfNull(stateDict);
        var layout = ModelFactory.Layout(ModelFactory.Canonicalize(options));
        var result = new InsertionOrderedMap<int>();
        foreach (var (module, width) in layout.Defaults)
        {
            if (!stateDict.TryGetValue(module + ".weight", out var weight) || weight.Shape.Length < 2) continue;
            long found = weight.Shape[0];
            if (found != width && found is > 0 and <= int.MaxValue) result.Add(module, (int)found);
        }
        return result;
    }

    /// <summary>
    /// <paramref name="options"/> with <see cref="ModelOptions.Channels"/> set to the widths of
    /// <paramref name="stateDict"/> (<see cref="FromStateDict"/>) when they describe a channel-pruned model of this
    /// architecture: no producer wider than its default and residual sets equal. Otherwise (an unpruned checkpoint,
    /// or shapes that cannot be a pruned model of this architecture, such as a wider one) <paramref name="options"/>
    /// comes back unchanged, so that loading reports the mismatch as before (CMP0106, naming key and shapes). The
    /// checkpoint decides: widths already in <paramref name="options"/> are replaced.
    /// </summary>
    /// <exception cref="CompressException">CMP0101/CMP0102 for invalid architecture, width or class count.</exception>
    public static ModelOptions FitStateDict(ModelOptions options, IReadOnlyDictionary<string, TensorData> stateDict)
    {
        var canonical = ModelFactory.Canonicalize(options);
        var layout = ModelFactory.Layout(canonical);
        var widths = FromStateDict(canonical, stateDict);
        if (widths.Count == 0) return options.Channels is null ? options : options with { Channels = null };
        var defaults = layout.Defaults.ToDictionary(d => d.Key, d => d.Value, StringComparer.Ordinal);
        if (widths.Any(w => w.Value > defaults[w.Key])) return options;
        var fitted = options with { Channels = widths };
        return Problem(canonical with { Channels = widths }, layout) is null ? fitted : options;
    }

    /// <summary>CMP0102 when <see cref="ModelOptions.Channels"/> does not fit the architecture.</summary>
    internal static void Validate(ModelOptions canonical, ChannelLayout layout)
    {
        if (Problem(canonical, layout) is { } problem)
            throw new CompressException(DiagnosticCode.InvalidModelOption, problem.Message, hint: problem.Hint);
    }

    private static (string Message, string Hint)? Problem(ModelOptions canonical, ChannelLayout layout)
    {
        if (canonical.Channels is not { } channels) return null;
        var known = layout.Defaults.Select(d => d.Key).ToList();
        var knownSet = known.ToHashSet(StringComparer.Ordinal);
        string architecture = canonical.Architecture;
        foreach (var (module, width) in channels)
        {
            if (!knownSet.Contains(module))
            {
                string? suggestion = NameSuggestions.Closest(module, known, Math.Max(2, module.Length / 3));
                return ($"Per-layer channels name '{module}', which is not a layer of {architecture} whose width can be set" +
                        (suggestion is null ? "." : $" (did you mean '{suggestion}'?)."),
                    $"Use the module names of {architecture}'s convolutions, e.g. {string.Join(", ", known.Take(4))}.");
            }
            if (width < 1)
                return ($"Per-layer channels give '{module}' {width.ToString(CultureInfo.InvariantCulture)} out channels; every layer needs at least 1.",
                    "Keep at least one channel per layer.");
        }
        foreach (var set in layout.Tied)
        {
            var widths = set.Select(m => ChannelScaling.Width(canonical, m, layout.Defaults.First(d => d.Key == m).Value)).ToList();
            if (widths.Distinct().Count() > 1)
                return ($"Per-layer channels of {architecture} differ where outputs are added: " +
                        string.Join(", ", set.Select((m, i) => $"'{m}' {widths[i].ToString(CultureInfo.InvariantCulture)}")) + ".",
                    "Give every layer of a residual set the same width (channel pruning does this by itself).");
        }
        return null;
    }
}

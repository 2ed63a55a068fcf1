using System.Globalization;
using Compress.Engine.Diagnostics;
using Compress.Engine.Models;
using Compress.Engine.Models.Graph;
using Compress.Shared;

namespace Compress.Engine.Pruning.Channels;

/// <summary>
/// Finds the channel groups of a model (<see cref="ChannelGroup"/>) from its <see cref="ModelGraph"/> and state-dict
/// shapes: which out channels, BatchNorms and input channels must shrink together for the pruned model to stay
/// well-formed. Channels flow through ReLU, max-pool, global average pooling and flatten unchanged; an addition ties
/// both inputs' groups into one.
/// </summary>
public static class ChannelDependencyAnalyzer
{
    /// <summary>Reason for the group of the network input's channels (image channels are fixed by the data).</summary>
    public const string NetworkInputReason = "network input";

    /// <summary>Reason for the group of the classifier's outputs (one logit per class).</summary>
    public const string LogitsReason = "classifier outputs (logits)";

    /// <summary>Reason for a group read or written by a grouped convolution (its channel blocks cannot shrink freely).</summary>
    public const string GroupedConvolutionReason = "grouped convolution";

    /// <summary>Reason for a group with a producer or BatchNorm the user asked to leave alone.</summary>
    public const string IgnoredReason = "ignored by user";

    /// <summary>The groups of <paramref name="model"/> (<see cref="ClassifierModel.DescribeGraph"/>, its state dict).</summary>
    /// <exception cref="CompressException">As <see cref="Analyze(ModelGraph, IReadOnlyDictionary{string, long[]}, IEnumerable{string}?)"/>.</exception>
    public static IReadOnlyList<ChannelGroup> Analyze(ClassifierModel model, IEnumerable<string>? ignoredLayers = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        var shapes = new Dictionary<string, long[]>(StringComparer.Ordinal);
        foreach (var (key, value) in model.OrderedStateDict()) shapes[key] = value.shape;
        return Analyze(model.DescribeGraph(), shapes, ignoredLayers);
    }

    /// <summary>
    /// The channel groups of <paramref name="graph"/>, in graph order of their first value (the network input's group
    /// first). <paramref name="shapes"/> maps state-dict keys (<c>layer1.0.conv1.weight</c>, <c>bn1.weight</c>, ...)
    /// to shapes; the channel counts come from them. Groups of the network input and of the logits are excluded, and
    /// so is every group in which one of <paramref name="ignoredLayers"/> (module names) is a producer or BatchNorm.
    /// </summary>
    /// <exception cref="CompressException">CMP0702 for an ignored layer that is not a convolution, BatchNorm or linear
    /// module of the graph (with a suggestion); CMP0705 for a node kind the analysis does not know, or shapes that
    /// disagree within a group.</exception>
    public static IReadOnlyList<ChannelGroup> Analyze(ModelGraph graph, IReadOnlyDictionary<string, long[]> shapes,
        IEnumerable<string>? ignoredLayers = null)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(shapes);
        var ignored = CheckIgnored(graph, ignoredLayers);

        var context = new CouplingContext(graph.Input);
        foreach (var node in graph.Nodes) node.Couple(context);
        if (context.TryRead(graph.Output) is not { } logits)
            throw Unsupported($"no node writes the graph output '{graph.Output}'");
        context[logits.Group].Reasons.Add(LogitsReason);

        // Merge by root, keeping graph order (raw ids grow in graph order; a root is its set's smallest id).
        var merged = new SortedDictionary<int, RawChannelGroup>();
        for (int g = 0; g < context.Groups.Count; g++)
        {
            int root = context.Find(g);
            if (!merged.TryGetValue(root, out var into)) merged[root] = into = new RawChannelGroup();
            var raw = context[g];
            into.IsInput |= raw.IsInput;
            into.Producers.AddRange(raw.Producers);
            into.BatchNorms.AddRange(raw.BatchNorms);
            into.Consumers.AddRange(raw.Consumers);
            into.Reasons.AddRange(raw.Reasons);
        }

        var result = new List<ChannelGroup>();
        foreach (var group in merged.Values)
        {
            if (group.Producers.Count == 0 && !group.IsInput) continue; // cannot happen: every group starts at a producer
            result.Add(Build(result.Count, group, shapes, ignored));
        }
        return result;
    }

    private static ChannelGroup Build(int id, RawChannelGroup group, IReadOnlyDictionary<string, long[]> shapes, HashSet<string> ignored)
    {
        var reasons = new List<string>();
        if (group.IsInput) reasons.Add(NetworkInputReason);
        reasons.AddRange(group.Reasons);
        if (group.Producers.Concat(group.BatchNorms).Any(ignored.Contains)) reasons.Add(IgnoredReason);

        long channels;
        if (group.Producers.Count > 0)
        {
            channels = Shape(shapes, group.Producers[0] + ".weight")[0];
            foreach (string producer in group.Producers)
            {
                long[] shape = Shape(shapes, producer + ".weight");
                if (shape[0] != channels) throw Mismatch(group.Producers[0], channels, producer + ".weight", shape);
                if (shapes.TryGetValue(producer + ".bias", out var bias) && (bias.Length != 1 || bias[0] != channels))
                    throw Mismatch(group.Producers[0], channels, producer + ".bias", bias);
            }
        }
        else
        {
            // The network input: as many channels as its first (convolution) consumer reads.
            var first = group.Consumers.FirstOrDefault();
            if (first.Module is null) throw Unsupported("the network input is not read by any convolution or linear layer");
            channels = Shape(shapes, first.Module + ".weight")[1];
        }
        if (channels < 1) throw Unsupported($"'{group.Producers.FirstOrDefault()}' has no output channels");

        foreach (string bn in group.BatchNorms)
        {
            foreach (string key in new[] { ".weight", ".bias", ".running_mean", ".running_var" })
            {
                if (!shapes.TryGetValue(bn + key, out var shape)) continue; // affine=False or no running stats
                if (shape.Length != 1 || shape[0] != channels) throw Mismatch(Anchor(group), channels, bn + key, shape);
            }
        }

        var consumers = new List<ChannelConsumer>();
        foreach (var (module, isLinear) in group.Consumers)
        {
            long[] shape = Shape(shapes, module + ".weight");
            long inFeatures = shape[1];
            bool fits = isLinear
                ? inFeatures % channels == 0
                : inFeatures == channels || group.Reasons.Contains(GroupedConvolutionReason); // grouped: in/groups
            if (!fits) throw Mismatch(Anchor(group), channels, module + ".weight", shape);
            consumers.Add(new ChannelConsumer(module, isLinear ? (int)(inFeatures / channels) : 1));
        }

        return new ChannelGroup(id, (int)channels, group.Producers.ToList(), group.BatchNorms.ToList(), consumers,
            reasons.Count == 0 ? null : string.Join("; ", reasons.Distinct(StringComparer.Ordinal)));
    }

    private static HashSet<string> CheckIgnored(ModelGraph graph, IEnumerable<string>? ignoredLayers)
    {
        var ignored = new HashSet<string>(StringComparer.Ordinal);
        if (ignoredLayers is null) return ignored;
        var known = LayerNames(graph);
        var knownSet = known.ToHashSet(StringComparer.Ordinal);
        foreach (string name in ignoredLayers)
        {
            ArgumentNullException.ThrowIfNull(name);
            if (!knownSet.Contains(name)) throw UnknownLayer(name, known, "ignored layer");
            ignored.Add(name);
        }
        return ignored;
    }

    /// <summary>The module names of the graph's convolutions, BatchNorms and linear layers, in graph order.</summary>
    internal static List<string> LayerNames(ModelGraph graph) => graph.Nodes
        .Select(n => n.StatePrefix).OfType<string>().Distinct(StringComparer.Ordinal).ToList();

    /// <summary>CMP0702 naming <paramref name="name"/> and the closest known layer.</summary>
    internal static CompressException UnknownLayer(string name, IReadOnlyList<string> known, string what)
    {
        string? suggestion = NameSuggestions.Closest(name, known, Math.Max(2, name.Length / 3));
        return new CompressException(DiagnosticCode.UnknownChannelLayer,
            $"The model has no layer '{name}' (given as {what})" + (suggestion is null ? "." : $"; did you mean '{suggestion}'?"),
            hint: "Use module names as in the state dict without the parameter suffix, e.g. " +
                  string.Join(", ", known.Take(4).Select(k => "'" + k + "'")) + ".");
    }

    private static string Anchor(RawChannelGroup group) => group.Producers.FirstOrDefault() ?? "the network input";

    private static long[] Shape(IReadOnlyDictionary<string, long[]> shapes, string key)
    {
        if (!shapes.TryGetValue(key, out var shape) || shape.Length < 2)
            throw Unsupported($"the state dict has no weight '{key}' of rank 2 or more");
        return shape;
    }

    private static CompressException Mismatch(string anchor, long channels, string key, long[] shape) =>
        Unsupported($"'{key}' has shape {ShapeText.Format(shape)}, which does not fit the {channels.ToString(CultureInfo.InvariantCulture)} " +
                    $"channels of '{anchor}''s group");

    private static CompressException Unsupported(string what) => CouplingContext.Unsupported(what);
}

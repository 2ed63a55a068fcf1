using System.Globalization;
using Compress.Engine.Diagnostics;
using Compress.Engine.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Compress.Engine.Pruning.Channels;

/// <summary>
/// Structured channel pruning with physical removal, as in the MIT EfficientML.ai pruning lab: per channel group
/// (<see cref="ChannelDependencyAnalyzer"/>) the least important channels are dropped from every member (producer out
/// channels and bias, BatchNorm weight, bias and running statistics, consumer input channels) and the rest are kept
/// sorted by importance, giving a genuinely smaller model that trains, saves, loads and exports like any other.
/// </summary>
public static class ChannelPruner
{
    /// <summary>
    /// Prunes <paramref name="model"/> (left untouched) into a new, smaller model with the kept weights copied by
    /// index. Deterministic: the same weights and options give the same result, on any device. The global torch
    /// generator is left as it was (the new model's throw-away initial weights draw from it).
    /// </summary>
    /// <exception cref="CompressException">As <see cref="Plan"/>.</exception>
    public static ChannelPruningResult Prune(ClassifierModel model, ChannelPruningOptions options)
    {
        var plan = Plan(model, options);
        long before = model.ParameterCount();
        var pruned = Build(model, plan);
        return new ChannelPruningResult(pruned, plan, before);
    }

    /// <summary>
    /// Which channels each group of <paramref name="model"/> keeps under <paramref name="options"/>, without building
    /// anything: every group in graph order, excluded ones with all channels.
    /// </summary>
    /// <exception cref="CompressException">CMP0701 for a ratio outside [0, 1) or NaN; CMP0702 for an ignored layer or
    /// per-layer ratio naming a module the model lacks (with a suggestion); CMP0703 for a per-group list of the wrong
    /// length; CMP0704 for contradicting options or a per-layer ratio on a layer that cannot be pruned; CMP0705 for a
    /// graph the analysis does not support.</exception>
    public static IReadOnlyList<PrunedChannelGroup> Plan(ClassifierModel model, ChannelPruningOptions options)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(options);
        CheckOptions(options);

        var state = StateDict(model);
        var shapes = state.ToDictionary(p => p.Key, p => p.Value.shape, StringComparer.Ordinal);
        var graph = model.DescribeGraph();
        var groups = ChannelDependencyAnalyzer.Analyze(graph, shapes, options.IgnoredLayers);
        var prunable = groups.Where(g => g.IsPrunable).ToList();
        var ratios = GroupRatios(options, groups, prunable, ChannelDependencyAnalyzer.LayerNames(graph));

        var kept = new Dictionary<int, IReadOnlyList<int>>();
        if (options.Ranking == ChannelRanking.Naive)
        {
            for (int i = 0; i < prunable.Count; i++)
                kept[prunable[i].Id] = Enumerable.Range(0, KeptChannels(prunable[i].Channels, ratios[i], options.RoundTo)).ToArray();
        }
        else
        {
            var importance = prunable.Select(g => Importance(g, state, options.Ranking)).ToList();
            if (options.GlobalRanking)
            {
                var chosen = GlobalKeep(prunable, importance, options.Ratio);
                for (int i = 0; i < prunable.Count; i++) kept[prunable[i].Id] = SortByImportance(chosen[i], importance[i]);
            }
            else
            {
                for (int i = 0; i < prunable.Count; i++)
                {
                    var order = SortByImportance(Enumerable.Range(0, prunable[i].Channels), importance[i]);
                    kept[prunable[i].Id] = order.Take(KeptChannels(prunable[i].Channels, ratios[i], options.RoundTo)).ToArray();
                }
            }
        }

        var result = new List<PrunedChannelGroup>();
        int p = 0;
        foreach (var group in groups)
        {
            if (group.IsPrunable) result.Add(new PrunedChannelGroup(group, ratios[p++], kept[group.Id]));
            else result.Add(new PrunedChannelGroup(group, 0, Enumerable.Range(0, group.Channels).ToArray()));
        }
        return result;
    }

    /// <summary>
    /// Channels a group of <paramref name="channels"/> keeps at <paramref name="ratio"/>: <c>max(1, round((1 - ratio) *
    /// channels))</c> with round-half-to-even, matching the lab's Python <c>int(round(channels * (1. - prune_ratio)))</c>.
    /// </summary>
    public static int KeptChannels(int channels, double ratio) =>
        Math.Max(1, (int)Math.Round(channels * (1.0 - ratio), MidpointRounding.ToEven));

    /// <summary>
    /// <see cref="KeptChannels(int, double)"/> rounded to the nearest multiple of <paramref name="roundTo"/> (half to
    /// even), at least <paramref name="roundTo"/> and at most <paramref name="channels"/>; 1 leaves it unchanged.
    /// </summary>
    public static int KeptChannels(int channels, double ratio, int roundTo)
    {
        int kept = KeptChannels(channels, ratio);
        if (roundTo <= 1) return kept;
        int rounded = (int)Math.Round((double)kept / roundTo, MidpointRounding.ToEven) * roundTo;
        return Math.Min(channels, Math.Max(roundTo, rounded));
    }

    private static void CheckOptions(ChannelPruningOptions options)
    {
        if (options.RoundTo < 1)
            throw new CompressException(DiagnosticCode.InvalidChannelPruningOption,
                $"RoundTo must be at least 1 (got {options.RoundTo.ToString(System.Globalization.CultureInfo.InvariantCulture)}).",
                hint: "Use 1 for the exact ratio, or 8 / 16 to keep widths the CPU kernels handle in full blocks.");
        CheckRatio(options.Ratio, "The channel pruning ratio");
        if (options.GroupRatios is { } list)
            for (int i = 0; i < list.Count; i++)
                CheckRatio(list[i], $"The ratio of prunable group {i.ToString(CultureInfo.InvariantCulture)}");
        if (options.LayerRatios is { } layers)
            foreach (var (name, ratio) in layers) CheckRatio(ratio, $"The ratio of layer '{name}'");
        if (options.GroupRatios is not null && options.LayerRatios is not null)
            throw Conflict("Both a per-group ratio list and per-layer ratios were given.", "Give one of them.");
        if (options.GlobalRanking && options.Ranking == ChannelRanking.Naive)
            throw Conflict("Global ranking needs an importance, but the ranking is naive (keep the first channels).",
                "Use L2 or L1 ranking with global ranking.");
        if (options.GlobalRanking && (options.GroupRatios is not null || options.LayerRatios is not null))
            throw Conflict("Global ranking chooses each group's share itself, but per-group or per-layer ratios were given.",
                "Drop the per-group/per-layer ratios, or turn global ranking off.");
        if (options.IgnoredLayers is null) throw new ArgumentException("IgnoredLayers must not be null.", nameof(options));
    }

    private static void CheckRatio(double ratio, string what)
    {
        if (double.IsNaN(ratio) || ratio < 0 || ratio >= 1)
            throw new CompressException(DiagnosticCode.InvalidChannelRatio,
                $"{what} is {ratio.ToString("R", CultureInfo.InvariantCulture)}, outside [0, 1).",
                hint: "Use a fraction of channels to remove, e.g. 0.3; 1 would remove every channel.");
    }

    private static CompressException Conflict(string message, string hint) =>
        new(DiagnosticCode.InvalidChannelPruningOption, message, hint: hint);

    /// <summary>The ratio of each prunable group, in order.</summary>
    private static double[] GroupRatios(ChannelPruningOptions options, IReadOnlyList<ChannelGroup> groups,
        List<ChannelGroup> prunable, List<string> layerNames)
    {
        var ratios = Enumerable.Repeat(options.Ratio, prunable.Count).ToArray();
        if (options.GroupRatios is { } list)
        {
            if (list.Count != prunable.Count)
                throw new CompressException(DiagnosticCode.ChannelRatioCountMismatch,
                    $"The per-group ratio list has {list.Count.ToString(CultureInfo.InvariantCulture)} ratios, but the model has " +
                    $"{prunable.Count.ToString(CultureInfo.InvariantCulture)} prunable channel groups (first producers: " +
                    string.Join(", ", prunable.Select(g => g.Producers[0])) + ").",
                    hint: "Give one ratio per prunable group in graph order, or per-layer ratios by module name.");
            return list.ToArray();
        }
        if (options.LayerRatios is { } layers)
        {
            var known = layerNames.ToHashSet(StringComparer.Ordinal);
            var setBy = new Dictionary<int, string>();
            foreach (var (name, ratio) in layers.OrderBy(l => l.Key, StringComparer.Ordinal))
            {
                if (!known.Contains(name)) throw ChannelDependencyAnalyzer.UnknownLayer(name, layerNames, "a per-layer ratio");
                var group = groups.First(g => g.Producers.Contains(name) || g.BatchNorms.Contains(name));
                if (!group.IsPrunable)
                    throw Conflict($"A ratio was given for layer '{name}', whose channels are not prunable ({group.ExcludedReason}).",
                        "Remove the ratio for that layer.");
                int index = prunable.IndexOf(group);
                if (setBy.TryGetValue(index, out string? other) && ratios[index] != ratio)
                    throw Conflict($"Layers '{other}' and '{name}' share one channel group but were given different ratios " +
                                   $"({ratios[index].ToString("R", CultureInfo.InvariantCulture)} and {ratio.ToString("R", CultureInfo.InvariantCulture)}).",
                        "Give the layers of a channel group (e.g. a ResNet stage) the same ratio, or only one of them.");
                setBy[index] = name;
                ratios[index] = ratio;
            }
        }
        return ratios;
    }

    /// <summary>
    /// Per channel, the norm of the consumers' input-channel weight slices (L2: square root of the summed squares over
    /// every consumer; L1: the summed absolute values), in float64 on the weights' device.
    /// </summary>
    private static double[] Importance(ChannelGroup group, Dictionary<string, Tensor> state, ChannelRanking ranking)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        Tensor? total = null;
        foreach (var consumer in group.Consumers)
        {
            // [out, C*F, ...] -> [C*F, out, ...] -> [C, F*out*...]: row c holds every weight that reads channel c.
            var weight = state[consumer.Module + ".weight"].detach().to(ScalarType.Float64);
            var rows = weight.transpose(0, 1).reshape(group.Channels, -1);
            var sum = ranking == ChannelRanking.L1 ? rows.abs().sum(1) : rows.square().sum(1);
            total = total is null ? sum : total + sum;
        }
        if (total is null) return new double[group.Channels]; // no consumer: every channel equally (un)important
        if (ranking == ChannelRanking.L2) total = total.sqrt();
        return total.cpu().data<double>().ToArray();
    }

    /// <summary>Most important first; equal importance keeps the lower index first (stable sort).</summary>
    private static int[] SortByImportance(IEnumerable<int> channels, double[] importance) =>
        channels.OrderByDescending(c => importance[c]).ThenBy(c => c).ToArray();

    /// <summary>
    /// Global ranking: each group keeps its most important channel, then the remaining budget goes to the channels
    /// with the largest importance divided by their group's mean (ties: group order, then index).
    /// </summary>
    private static List<int>[] GlobalKeep(List<ChannelGroup> prunable, List<double[]> importance, double ratio)
    {
        int total = prunable.Sum(g => g.Channels);
        int budget = Math.Max(prunable.Count, KeptChannels(total, ratio));
        var chosen = new List<int>[prunable.Count];
        var candidates = new List<(double Score, int Group, int Channel)>();
        for (int g = 0; g < prunable.Count; g++)
        {
            double[] imp = importance[g];
            double mean = imp.Average();
            var order = SortByImportance(Enumerable.Range(0, imp.Length), imp);
            chosen[g] = [order[0]];
            foreach (int c in order.Skip(1)) candidates.Add((mean > 0 ? imp[c] / mean : 1.0, g, c));
        }
        foreach (var (_, g, c) in candidates.OrderByDescending(x => x.Score).ThenBy(x => x.Group).ThenBy(x => x.Channel)
                     .Take(budget - prunable.Count))
            chosen[g].Add(c);
        return chosen;
    }

    /// <summary>The new model: widths from the plan, weights gathered from <paramref name="model"/>.</summary>
    private static ClassifierModel Build(ClassifierModel model, IReadOnlyList<PrunedChannelGroup> plan)
    {
        var state = StateDict(model);
        var first = model.parameters().First();
        var device = first.device;
        var dtype = first.dtype;

        var outIndex = new Dictionary<string, long[]>(StringComparer.Ordinal);
        var inIndex = new Dictionary<string, long[]>(StringComparer.Ordinal);
        foreach (var entry in plan.Where(e => e.Group.IsPrunable))
        {
            if (entry.KeptIndices.SequenceEqual(Enumerable.Range(0, entry.ChannelsBefore))) continue; // unchanged
            long[] rows = entry.KeptIndices.Select(i => (long)i).ToArray();
            foreach (string module in entry.Group.Producers.Concat(entry.Group.BatchNorms)) outIndex[module] = rows;
            foreach (var consumer in entry.Group.Consumers)
            {
                int f = consumer.FeaturesPerChannel;
                inIndex[consumer.Module] = entry.KeptIndices.SelectMany(c => Enumerable.Range(0, f).Select(j => (long)c * f + j)).ToArray();
            }
        }

        ClassifierModel pruned;
        if (model.Origin is not null)
        {
            // An imported model has no options that describe widths: the same graph with the sliced shapes is the
            // pruned model (its modules are created from the state shapes).
            var shapes = new Models.InsertionOrderedMap<long[]>();
            foreach (var (key, current) in model.DescribeGraph().StateShapes)
            {
                int dot = key.LastIndexOf('.');
                string module = dot < 0 ? key : key[..dot], name = key[(dot + 1)..];
                long[] shape = (long[])current.Clone();
                if (outIndex.TryGetValue(module, out var rows) && name is "weight" or "bias" or "running_mean" or "running_var") shape[0] = rows.Length;
                if (inIndex.TryGetValue(module, out var columns) && name == "weight") shape[1] = columns.Length;
                shapes.Add(key, shape);
            }
            pruned = model.WithStateShapes(shapes);
        }
        else
        {
            var widths = new Dictionary<string, int>(ChannelWidths.Resolve(model.Options), StringComparer.Ordinal);
            var defaults = ChannelWidths.Defaults(model.Options);
            foreach (var entry in plan.Where(e => e.Group.IsPrunable))
            {
                foreach (string producer in entry.Group.Producers)
                {
                    if (!widths.ContainsKey(producer))
                        throw new InvalidOperationException($"{model.Options.Architecture} cannot set the width of '{producer}'.");
                    widths[producer] = entry.ChannelsAfter;
                }
            }
            var options = model.Options with
            {
                Channels = widths.Where(w => w.Value != defaults[w.Key]).ToDictionary(w => w.Key, w => w.Value, StringComparer.Ordinal),
            };
            pruned = CreateKeepingGenerator(options);
        }
        try
        {
            if (dtype != ScalarType.Float32) pruned.to(dtype);
            pruned.to(device);
            using var noGrad = no_grad();
            foreach (var (key, target) in pruned.OrderedStateDict())
            {
                using var scope = NewDisposeScope();
                if (!state.TryGetValue(key, out var source))
                    throw new InvalidOperationException($"The pruned model has '{key}', which the original lacks.");
                int dot = key.LastIndexOf('.');
                string module = key[..dot], name = key[(dot + 1)..];
                var value = source.detach();
                if (outIndex.TryGetValue(module, out var rows) && name is "weight" or "bias" or "running_mean" or "running_var")
                    value = value.index_select(0, tensor(rows, device: value.device));
                if (inIndex.TryGetValue(module, out var columns) && name == "weight")
                    value = value.index_select(1, tensor(columns, device: value.device));
                if (!value.shape.SequenceEqual(target.shape))
                    throw new InvalidOperationException(
                        $"'{key}' is {ShapeText.Format(value.shape)} after pruning but {ShapeText.Format(target.shape)} in the pruned model.");
                target.copy_(value);
            }
            if (model.training) pruned.train();
            else pruned.eval();
            return pruned;
        }
        catch
        {
            pruned.Dispose();
            throw;
        }
    }

    /// <summary><see cref="ModelFactory.Create"/> with the global generator restored afterwards, so pruning does not
    /// shift the random stream of whatever the caller does next.</summary>
    private static ClassifierModel CreateKeepingGenerator(ModelOptions options)
    {
        using var saved = torch.random.get_rng_state();
        try
        {
            return ModelFactory.Create(options);
        }
        finally
        {
            torch.random.set_rng_state(saved);
        }
    }

    private static Dictionary<string, Tensor> StateDict(ClassifierModel model)
    {
        var state = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (key, value) in model.OrderedStateDict()) state[key] = value;
        return state;
    }
}

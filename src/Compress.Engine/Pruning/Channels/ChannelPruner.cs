using System.Globalization;
using Compress.Engine.Diagnostics;
using Compress.Engine.Models;
using Compress.Engine.Models.Graph;
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
    /// index: the same graph with narrower tensors (a slice's bounds and a reshape's target recomputed), so any graph
    /// the analysis follows, built-in or imported, trains, saves and exports like any other model. Deterministic: the
    /// same weights and options give the same result, on any device. The global torch generator is left as it was.
    /// </summary>
    /// <exception cref="CompressException">As <see cref="Plan"/>.</exception>
    public static ChannelPruningResult Prune(ClassifierModel model, ChannelPruningOptions options)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(options);
        CheckOptions(options);
        var analysis = ChannelDependencyAnalyzer.AnalyzeModel(model, options.IgnoredLayers);
        var plan = MakePlan(model, analysis, options);
        return Cut(model, analysis, plan);
    }

    /// <summary>
    /// Which channels each group of <paramref name="model"/> keeps under <paramref name="options"/>, without building
    /// anything: every group in graph order, excluded ones with all channels.
    /// </summary>
    /// <exception cref="CompressException">CMP0701 for a ratio outside [0, 1) or NaN; CMP0702 for an ignored layer or
    /// per-layer ratio naming a module the model lacks (with a suggestion); CMP0703 for a per-group list of the wrong
    /// length; CMP0704 for contradicting options or a per-layer ratio on a layer that cannot be pruned; CMP0705 for a
    /// graph the analysis cannot follow at all.</exception>
    public static IReadOnlyList<PrunedChannelGroup> Plan(ClassifierModel model, ChannelPruningOptions options)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(options);
        CheckOptions(options);
        return MakePlan(model, ChannelDependencyAnalyzer.AnalyzeModel(model, options.IgnoredLayers), options);
    }

    /// <summary>
    /// Builds the model <paramref name="plan"/> describes (a plan from <see cref="Plan(ClassifierModel, ChannelPruningOptions)"/>,
    /// possibly read back from a report): its groups must be <paramref name="model"/>'s.
    /// </summary>
    /// <exception cref="CompressException">CMP0706 when the plan does not fit the model (other groups, channel counts
    /// or indices).</exception>
    public static ChannelPruningResult Apply(ClassifierModel model, IReadOnlyList<PrunedChannelGroup> plan)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(plan);
        var analysis = ChannelDependencyAnalyzer.AnalyzeModel(model, null);
        return Cut(model, analysis, plan);
    }

    private static List<PrunedChannelGroup> MakePlan(ClassifierModel model, ChannelAnalysis analysis, ChannelPruningOptions options)
    {
        var state = StateDict(model);
        var groups = analysis.Groups;
        var prunable = groups.Where(g => g.IsPrunable).ToList();
        var ratios = GroupRatios(options, groups, prunable, ChannelDependencyAnalyzer.LayerNames(model.DescribeGraph()));
        var importance = options.Ranking switch
        {
            ChannelRanking.Naive => null,
            ChannelRanking.Gradient => TaylorImportance(analysis, state, options.Gradients!),
            ChannelRanking.Random => RandomImportance(analysis, options.Seed),
            _ => Importance(analysis, state, options.Ranking),
        };

        var kept = new Dictionary<int, IReadOnlyList<int>>();
        if (options.GlobalRanking)
        {
            var chosen = GlobalKeep(prunable, prunable.Select(g => importance![g.Id]).ToList(), options.Ratio);
            for (int i = 0; i < prunable.Count; i++)
            {
                var group = prunable[i];
                var partition = analysis.Partitions[group.Id];
                kept[group.Id] = partition is null
                    ? Arrange(group, chosen[i], importance![group.Id])
                    : ChooseInBlocks(group, partition, importance![group.Id],
                        Math.Max(1, (int)Math.Round((double)chosen[i].Count / partition.Length, MidpointRounding.ToEven)));
            }
        }
        else
        {
            for (int i = 0; i < prunable.Count; i++)
            {
                var group = prunable[i];
                var imp = importance?[group.Id];
                if (analysis.Partitions[group.Id] is { } partition)
                {
                    // Equal per block; the total a multiple of RoundTo where the blocks allow it.
                    int step = options.RoundTo / Gcd(options.RoundTo, partition.Length);
                    kept[group.Id] = ChooseInBlocks(group, partition, imp, KeptChannels(partition[0].Length, ratios[i], step));
                }
                else
                {
                    int count = KeptChannels(group.Channels, ratios[i], options.RoundTo);
                    var order = imp is null ? Enumerable.Range(0, group.Channels) : SortByImportance(Enumerable.Range(0, group.Channels), imp);
                    kept[group.Id] = Arrange(group, order.Take(count).ToList(), imp);
                }
            }
        }

        var result = new List<PrunedChannelGroup>();
        int p = 0;
        foreach (var group in groups)
        {
            if (group.IsPrunable) result.Add(new PrunedChannelGroup(group, options.GlobalRanking ? options.Ratio : ratios[p++], kept[group.Id]));
            else result.Add(new PrunedChannelGroup(group, 0, Enumerable.Range(0, group.Channels).ToArray()));
        }
        return result;
    }

    /// <summary>The kept channels in their new order: by importance when the group may be reordered and is ranked,
    /// otherwise ascending.</summary>
    private static int[] Arrange(ChannelGroup group, List<int> chosen, double[]? importance) =>
        group.Reorderable && importance is not null ? SortByImportance(chosen, importance) : [.. chosen.Order()];

    /// <summary><paramref name="perBlock"/> channels from every block (the most important, or the first when naive),
    /// block by block.</summary>
    private static int[] ChooseInBlocks(ChannelGroup group, int[][] partition, double[]? importance, int perBlock)
    {
        var result = new List<int>();
        foreach (int[] block in partition)
        {
            var order = importance is null ? block : SortByImportance(block, importance);
            var chosen = order.Take(Math.Min(perBlock, block.Length)).ToList();
            result.AddRange(group.Reorderable && importance is not null ? chosen : chosen.Order());
        }
        return group.Reorderable ? [.. result] : [.. result.Order()];
    }

    private static int Gcd(int a, int b) => b == 0 ? a : Gcd(b, a % b);

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
        if (options.Ranking == ChannelRanking.Gradient && options.Gradients is null)
            throw Conflict("The gradient ranking needs the loss gradients, and none were given.",
                "Use it through compress prune (which computes them from the first training images), or pass ChannelPruningOptions.Gradients.");
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
                // The groups whose channels the layer produces, normalises or carries (a norm after a concatenation
                // carries several).
                var owned = groups.Where(g => g.Producers.Contains(name) || g.BatchNorms.Contains(name) || g.Others.Contains(name)).ToList();
                if (owned.Count == 0)
                    throw Conflict($"A ratio was given for layer '{name}', which only reads channels; its ratio would be the producer's.",
                        "Give the ratio to the layer that produces the channels (a convolution or linear layer).");
                foreach (var group in owned)
                {
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
        }
        return ratios;
    }

    /// <summary>
    /// Per prunable group and channel, the norm of the consumers' input-channel weight slices (L2: square root of the
    /// summed squares over every consumer; L1: the summed absolute values), in float64. A channel read in several places
    /// (a concatenation read twice) sums them all; a group without consumers scores every channel 0.
    /// </summary>
    private static Dictionary<int, double[]> Importance(ChannelAnalysis analysis, Dictionary<string, Tensor> state, ChannelRanking ranking)
    {
        var totals = analysis.Groups.Where(g => g.IsPrunable).ToDictionary(g => g.Id, g => new double[g.Channels]);
        using var noGrad = no_grad();
        foreach (var member in analysis.Members)
        {
            if (member.Role is not (ChannelRole.Consumer or ChannelRole.GroupedConsumer)) continue;
            if (!member.Atoms.Any(a => analysis.AtomGroup[a] >= 0 && totals.ContainsKey(analysis.AtomGroup[a]))) continue;
            using var scope = NewDisposeScope();
            var weight = state[member.Key].detach().to(ScalarType.Float64);
            double[] sums;
            if (member.Role == ChannelRole.Consumer)
            {
                // [out, C*F, ...] -> [C*F, out, ...] -> [C, F*out*...]: row c holds every weight that reads channel c.
                sums = Norms(weight.transpose(0, 1).reshape(member.Atoms.Length, -1), ranking);
            }
            else
            {
                // Grouped: output block b reads input block b through weight[b's rows, q].
                int blocks = member.Blocks, inPer = member.Atoms.Length / blocks;
                long outPer = weight.shape[0] / blocks;
                sums = new double[member.Atoms.Length];
                for (int b = 0; b < blocks; b++)
                {
                    var rows = weight.narrow(0, b * outPer, outPer).transpose(0, 1).reshape(inPer, -1);
                    Norms(rows, ranking).CopyTo(sums, b * inPer);
                }
            }
            for (int p = 0; p < member.Atoms.Length; p++)
            {
                int atom = member.Atoms[p];
                if (totals.TryGetValue(analysis.AtomGroup[atom], out var total)) total[analysis.AtomChannel[atom]] += sums[p];
            }
        }
        if (ranking == ChannelRanking.L2)
            foreach (var total in totals.Values)
                for (int c = 0; c < total.Length; c++) total[c] = Math.Sqrt(total[c]);
        return totals;
    }

    /// <summary>
    /// Per prunable group and channel, the summed |w x g| over every member entry the channel indexes (first-order
    /// Taylor; members without a gradient, such as running statistics, count nothing).
    /// </summary>
    private static Dictionary<int, double[]> TaylorImportance(ChannelAnalysis analysis, Dictionary<string, Tensor> state,
        IReadOnlyDictionary<string, Tensor> gradients)
    {
        var totals = analysis.Groups.Where(g => g.IsPrunable).ToDictionary(g => g.Id, g => new double[g.Channels]);
        using var noGrad = no_grad();
        foreach (var member in analysis.Members)
        {
            if (!gradients.TryGetValue(member.Key, out var gradient)) continue;
            if (!member.Atoms.Any(a => totals.ContainsKey(analysis.AtomGroup[a]))) continue;
            using var scope = NewDisposeScope();
            var taylor = state[member.Key].detach().to(ScalarType.Float64).mul(gradient.to(ScalarType.Float64)).abs();
            double[] sums;
            if (member.Role == ChannelRole.GroupedConsumer)
            {
                // Output block b reads input block b: sum every row's column q into input channel b * inPer + q.
                int blocks = member.Blocks, inPer = member.Atoms.Length / blocks;
                long outPer = taylor.shape[0] / blocks;
                sums = new double[member.Atoms.Length];
                for (int b = 0; b < blocks; b++)
                {
                    var block = taylor.narrow(0, b * outPer, outPer).transpose(0, 1).reshape(inPer, -1).sum(1);
                    block.cpu().data<double>().ToArray().CopyTo(sums, b * inPer);
                }
            }
            else
            {
                // Dimension `Dim` first, then one row per atom (its span of indices together).
                sums = taylor.movedim([member.Dim], [0]).reshape(member.Atoms.Length, -1).sum(1).cpu().data<double>().ToArray();
            }
            for (int p = 0; p < member.Atoms.Length; p++)
            {
                int atom = member.Atoms[p];
                if (totals.TryGetValue(analysis.AtomGroup[atom], out var total)) total[analysis.AtomChannel[atom]] += sums[p];
            }
        }
        return totals;
    }

    /// <summary>Seeded uniform scores per prunable group and channel (one generator per group, so a group's scores do
    /// not depend on the others).</summary>
    private static Dictionary<int, double[]> RandomImportance(ChannelAnalysis analysis, int seed)
    {
        var totals = new Dictionary<int, double[]>();
        foreach (var group in analysis.Groups.Where(g => g.IsPrunable))
        {
            var random = new Random(unchecked((seed * 7919) + group.Id));
            totals[group.Id] = [.. Enumerable.Range(0, group.Channels).Select(_ => random.NextDouble())];
        }
        return totals;
    }

    /// <summary>Per row: the sum of squares (L2, rooted later) or of absolute values (L1).</summary>
    private static double[] Norms(Tensor rows, ChannelRanking ranking) =>
        (ranking == ChannelRanking.L1 ? rows.abs().sum(1) : rows.square().sum(1)).cpu().data<double>().ToArray();

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

    /// <summary>The new model: the plan's channels cut from every member, nodes resized, weights gathered.</summary>
    private static ChannelPruningResult Cut(ClassifierModel model, ChannelAnalysis analysis, IReadOnlyList<PrunedChannelGroup> plan)
    {
        var kept = CheckPlan(analysis, plan);
        var cut = new ChannelCut(analysis, kept);
        var state = StateDict(model);
        var (biases, notes) = ChannelConstantFolding.Fold(model, analysis, kept, state);
        if (notes.Count > 0)
            plan = [.. plan.Select(p => notes.TryGetValue(p.Group.Id, out string? note) ? p with { Note = note } : p)];

        // The cut tensors outlive the scope (the model is made after it, so its buffers are not the scope's); they are
        // disposed once copied. Folded biases replace the model's before they are cut.
        var values = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            using (NewDisposeScope())
            using (no_grad())
            {
                foreach (var members in analysis.Members.Where(m => cut.Changes(m.Atoms)).GroupBy(m => m.Key, StringComparer.Ordinal))
                {
                    var source = biases.TryGetValue(members.Key, out var bias) ? bias : state[members.Key].detach();
                    values[members.Key] = cut.Slice(source, [.. members]).DetachFromDisposeScope();
                }
            }
            foreach (var (key, bias) in biases)
                if (!values.ContainsKey(key)) values[key] = bias.clone();
            return Build(model, analysis, plan, cut, values);
        }
        finally
        {
            foreach (var value in values.Values) value.Dispose();
            foreach (var bias in biases.Values) bias.Dispose();
        }
    }

    private static ChannelPruningResult Build(ClassifierModel model, ChannelAnalysis analysis, IReadOnlyList<PrunedChannelGroup> plan,
        ChannelCut cut, Dictionary<string, Tensor> values)
    {
        var state = StateDict(model);
        var graph = model.DescribeGraph();
        long before = model.ParameterCount();
        var shapes = new InsertionOrderedMap<long[]>();
        foreach (var (key, shape) in graph.StateShapes)
            shapes.Add(key, values.TryGetValue(key, out var value) ? value.shape : shape);
        var context = new ResizeContext(analysis.Values, cut.IsKept);
        var resized = graph with { Nodes = [.. graph.Nodes.Select(n => n.Resize(context))], StateShapes = shapes };
        Benchmark.ModelProfiler.Profile(resized, shapes, model.InputShape); // a cut that does not fit is a bug: say where

        bool builtIn = model.Origin is null && ModelFactory.Architectures.Contains(model.Options.Architecture, StringComparer.Ordinal);
        var pruned = model.WithGraph(resized, builtIn ? WithWidths(model.Options, shapes) : null);
        try
        {
            var first = model.parameters().First();
            if (first.dtype != ScalarType.Float32) pruned.to(first.dtype);
            pruned.to(first.device);
            using var noGrad = no_grad();
            foreach (var (key, target) in pruned.OrderedStateDict())
            {
                var source = values.TryGetValue(key, out var value) ? value : state[key];
                target.copy_(source);
            }
            if (model.training) pruned.train();
            else pruned.eval();
            return new ChannelPruningResult(pruned, plan, before);
        }
        catch
        {
            pruned.Dispose();
            throw;
        }
    }

    /// <summary>For a built-in architecture, its options with the producers' new widths (what a checkpoint of the
    /// pruned model reloads with).</summary>
    private static ModelOptions WithWidths(ModelOptions options, InsertionOrderedMap<long[]> shapes)
    {
        var widths = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (module, width) in ModelFactory.Layout(options).Defaults)
        {
            if (shapes.TryGetValue(module + ".weight", out var shape) && shape[0] != width) widths[module] = checked((int)shape[0]);
        }
        return options with { Channels = widths.Count == 0 ? null : widths };
    }

    /// <summary>The plan's kept channels per group, checked against the analysis (CMP0706).</summary>
    private static IReadOnlyList<int>[] CheckPlan(ChannelAnalysis analysis, IReadOnlyList<PrunedChannelGroup> plan)
    {
        if (plan.Count != analysis.Groups.Count)
            throw PlanMismatch($"the plan has {plan.Count} channel groups, the model {analysis.Groups.Count}");
        var kept = new IReadOnlyList<int>[plan.Count];
        for (int i = 0; i < plan.Count; i++)
        {
            var group = analysis.Groups[i];
            var entry = plan[i];
            string where = $"group {i} (first producer '{(group.Producers.Count == 0 ? "none" : group.Producers[0])}')";
            if (entry.Group.Channels != group.Channels || !entry.Group.Producers.SequenceEqual(group.Producers))
                throw PlanMismatch($"{where} has {group.Channels} channels from [{string.Join(", ", group.Producers)}], the plan " +
                                   $"{entry.Group.Channels} from [{string.Join(", ", entry.Group.Producers)}]");
            var indices = entry.KeptIndices;
            if (indices.Count == 0 || indices.Any(c => c < 0 || c >= group.Channels) || indices.Distinct().Count() != indices.Count)
                throw PlanMismatch($"{where} keeps channel indices that are empty, repeated or not below {group.Channels}");
            bool identity = indices.SequenceEqual(Enumerable.Range(0, group.Channels));
            if (!group.IsPrunable && !identity)
                throw PlanMismatch($"{where} cannot be pruned ({group.ExcludedReason}), but the plan removes or reorders its channels");
            if (!group.Reorderable && !indices.SequenceEqual(indices.Order()))
                throw PlanMismatch($"{where} must keep its channels in order, but the plan reorders them");
            if (analysis.Partitions[i] is { } partition)
            {
                var set = indices.ToHashSet();
                int first = partition[0].Count(set.Contains);
                if (partition.Any(b => b.Count(set.Contains) != first))
                    throw PlanMismatch($"{where} feeds a grouped convolution, but the plan keeps different numbers of channels in its {partition.Length} blocks");
            }
            kept[i] = indices;
        }
        return kept;
    }

    private static CompressException PlanMismatch(string what) =>
        new(DiagnosticCode.ChannelPlanMismatch, $"The channel pruning plan does not fit the model: {what}.",
            hint: "Apply a plan to the model it was made for (same architecture, weights shapes and ignored layers), or make a new plan.");

    private static Dictionary<string, Tensor> StateDict(ClassifierModel model)
    {
        var state = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (key, value) in model.OrderedStateDict()) state[key] = value;
        return state;
    }
}

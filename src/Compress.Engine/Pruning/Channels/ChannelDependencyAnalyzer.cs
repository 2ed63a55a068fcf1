using Compress.Engine.Benchmark;
using Compress.Engine.Diagnostics;
using Compress.Engine.Models;
using Compress.Engine.Models.Graph;
using Compress.Shared;

namespace Compress.Engine.Pruning.Channels;

/// <summary>
/// Finds the channel groups of a model (<see cref="ChannelGroup"/>) from its <see cref="ModelGraph"/> and state-dict
/// shapes: which channels of which tensors must shrink together for the pruned model to stay well-formed, following
/// each node kind's coupling rule (<see cref="GraphNode"/>'s <c>Couple</c>; Torch-Pruning's rules on our graph).
/// Nothing the rules cannot follow is guessed: such groups are listed as excluded, with the reason.
/// </summary>
public static class ChannelDependencyAnalyzer
{
    /// <summary>Reason for the group of the network input's channels (image channels are fixed by the data).</summary>
    public const string NetworkInputReason = "network input";

    /// <summary>Reason for the group of the classifier's outputs (one logit per class).</summary>
    public const string LogitsReason = "classifier outputs (logits)";

    /// <summary>Reason for a group with a layer the user asked to leave alone.</summary>
    public const string IgnoredReason = "ignored by user";

    /// <summary>The groups of <paramref name="model"/> (<see cref="ClassifierModel.DescribeGraph"/>, its state dict).</summary>
    /// <exception cref="CompressException">As <see cref="Analyze(ModelGraph, IReadOnlyDictionary{string, long[]}, InputShape, IEnumerable{string}?)"/>.</exception>
    public static IReadOnlyList<ChannelGroup> Analyze(ClassifierModel model, IEnumerable<string>? ignoredLayers = null) =>
        AnalyzeModel(model, ignoredLayers).Groups;

    /// <summary>
    /// The channel groups of <paramref name="graph"/>, in graph order of their first value (the network input's group
    /// first). <paramref name="shapes"/> maps state-dict keys to shapes; channel counts come from them and from shape
    /// inference on an image of <paramref name="input"/>. Groups of the network input and of the logits are excluded,
    /// and so is every group in which one of <paramref name="ignoredLayers"/> (module names) is a member.
    /// </summary>
    /// <exception cref="CompressException">CMP0702 for an ignored layer that is not a layer of the graph (with a
    /// suggestion); CMP0705 for a graph whose values cannot be followed at all; CMP0105/CMP0106 when the shapes do not
    /// fit the graph.</exception>
    public static IReadOnlyList<ChannelGroup> Analyze(ModelGraph graph, IReadOnlyDictionary<string, long[]> shapes, InputShape input,
        IEnumerable<string>? ignoredLayers = null) => AnalyzeGraph(graph, shapes, input, ignoredLayers).Groups;

    internal static ChannelAnalysis AnalyzeModel(ClassifierModel model, IEnumerable<string>? ignoredLayers)
    {
        ArgumentNullException.ThrowIfNull(model);
        var shapes = new Dictionary<string, long[]>(StringComparer.Ordinal);
        foreach (var (key, value) in model.OrderedStateDict()) shapes[key] = value.shape;
        return AnalyzeGraph(model.DescribeGraph(), shapes, model.InputShape, ignoredLayers);
    }

    internal static ChannelAnalysis AnalyzeGraph(ModelGraph graph, IReadOnlyDictionary<string, long[]> shapes, InputShape input,
        IEnumerable<string>? ignoredLayers)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(shapes);
        ArgumentNullException.ThrowIfNull(input);
        var ignored = CheckIgnored(graph, ignoredLayers);

        var profile = ModelProfiler.Profile(graph, shapes, input);
        var values = new Dictionary<string, long[]>(StringComparer.Ordinal) { [graph.Input] = [input.Channels, input.Height, input.Width] };
        for (int i = 0; i < graph.Nodes.Count; i++) values[graph.Nodes[i].Output] = [.. profile.Layers[i].OutputShape];

        var context = new CouplingContext(graph.Input, values, shapes);
        foreach (var node in graph.Nodes) node.Couple(context);
        if (context.TryRead(graph.Output) is not { } logits)
            throw CouplingContext.Unsupported($"no node writes the graph output '{graph.Output}'");
        context.Exclude(logits.Atoms, LogitsReason);
        return Build(context, ignored);
    }

    private static ChannelAnalysis Build(CouplingContext context, HashSet<string> ignored)
    {
        // Final groups by root (a root is its set's smallest raw id, so graph order is kept); their channels are the
        // distinct atom classes in birth order.
        var rawByRoot = new SortedDictionary<int, List<int>>();
        for (int g = 0; g < context.Groups.Count; g++)
        {
            int root = context.FindGroup(g);
            if (!rawByRoot.TryGetValue(root, out var list)) rawByRoot[root] = list = [];
            list.Add(g);
        }
        var memberGroups = new HashSet<int>();
        foreach (var member in context.Members)
            foreach (int atom in member.Atoms) memberGroups.Add(context.FindGroup(context.BirthGroup(atom)));

        var atomGroup = new int[context.AtomCount];
        var atomChannel = new int[context.AtomCount];
        Array.Fill(atomGroup, -1);
        var groups = new List<GroupBuilder>();
        foreach (var (root, raws) in rawByRoot)
        {
            bool isInput = raws.Any(r => context.Groups[r].IsInput);
            if (!isInput && !memberGroups.Contains(root)) continue; // nothing holds these channels
            var builder = new GroupBuilder(groups.Count, isInput);
            var classChannel = new Dictionary<int, int>();
            foreach (int r in raws)
            {
                var raw = context.Groups[r];
                foreach (int atom in raw.Atoms)
                {
                    int cls = context.FindAtom(atom);
                    if (!classChannel.TryGetValue(cls, out int channel)) classChannel[cls] = channel = classChannel.Count;
                    atomGroup[atom] = builder.Id;
                    atomChannel[atom] = channel;
                }
                builder.Reasons.AddRange(raw.Reasons);
            }
            builder.Channels = classChannel.Count;
            groups.Add(builder);
        }

        foreach (var member in context.Members)
        {
            foreach (int g in member.Atoms.Select(a => atomGroup[a]).Distinct())
            {
                var group = groups[g];
                switch (member.Role)
                {
                    case ChannelRole.Producer: group.Producers.Add(member.Layer); break;
                    case ChannelRole.Norm: group.BatchNorms.Add(member.Layer); break;
                    case ChannelRole.Consumer:
                    case ChannelRole.GroupedConsumer: group.Consumers.Add((member.Layer, member.Span)); break;
                    default: group.Others.Add(member.Layer); break;
                }
                bool consumes = member.Role is ChannelRole.Consumer or ChannelRole.GroupedConsumer;
                if (ignored.Contains(member.Layer) && !consumes) group.Reasons.Add(IgnoredReason);
            }
        }

        ApplyPartitions(context, groups, atomGroup, atomChannel);
        CheckOrder(context, groups, atomGroup, atomChannel);

        var result = groups.Select(b => b.ToGroup()).ToList();
        return new ChannelAnalysis(result, context.Members, atomGroup, atomChannel,
            groups.Select(g => g.Partition).ToArray(), context.Values);
    }

    /// <summary>
    /// Grouped convolutions: each block of the channels they read or write must keep the same number of channels.
    /// The finest split of a group is kept; a split that covers only part of a group, mixes groups or disagrees with
    /// another excludes the group.
    /// </summary>
    private static void ApplyPartitions(CouplingContext context, List<GroupBuilder> groups, int[] atomGroup, int[] atomChannel)
    {
        foreach (var (atoms, blocks, layer) in context.Partitions)
        {
            var involved = atoms.Select(a => atomGroup[a]).Where(g => g >= 0).Distinct().ToList();
            string? problem = null;
            if (involved.Count != 1)
            {
                problem = $"grouped convolution '{layer}' reads or writes channels of several groups";
            }
            else
            {
                var group = groups[involved[0]];
                int size = atoms.Length / blocks;
                var partition = new int[blocks][];
                for (int b = 0; b < blocks; b++)
                    partition[b] = atoms.Skip(b * size).Take(size).Select(a => atomChannel[a]).ToArray();
                var all = partition.SelectMany(p => p).ToList();
                if (all.Distinct().Count() != all.Count || all.Count != group.Channels)
                {
                    problem = $"grouped convolution '{layer}' reads or writes part of the group, or a channel twice";
                }
                else if (group.Partition is null || group.Partition.Length < blocks)
                {
                    if (group.Partition is not null && !Refines(partition, group.Partition))
                        problem = $"grouped convolutions split the channels into blocks that do not nest ('{layer}')";
                    else group.Partition = partition;
                }
                else if (!Refines(group.Partition, partition))
                {
                    problem = $"grouped convolutions split the channels into blocks that do not nest ('{layer}')";
                }
            }
            if (problem is not null)
                foreach (int g in involved) groups[g].Reasons.Add(problem);
        }
    }

    /// <summary>Whether every block of <paramref name="fine"/> lies inside one block of <paramref name="coarse"/>.</summary>
    private static bool Refines(int[][] fine, int[][] coarse)
    {
        var blockOf = new Dictionary<int, int>();
        for (int b = 0; b < coarse.Length; b++)
            foreach (int c in coarse[b]) blockOf[c] = b;
        return fine.All(block => block.Select(c => blockOf.GetValueOrDefault(c, -1)).Distinct().Count() == 1);
    }

    /// <summary>
    /// A group may be reordered only where every value and tensor holds all its channels as one run in the group's
    /// order; then one permutation applies everywhere. Otherwise (split, repeated, interleaved) channels keep their order.
    /// </summary>
    private static void CheckOrder(CouplingContext context, List<GroupBuilder> groups, int[] atomGroup, int[] atomChannel)
    {
        var layouts = context.Values.Values.Select(v => v.Atoms).Concat(context.Members.Select(m => m.Atoms));
        foreach (int[] atoms in layouts)
        {
            int p = 0;
            while (p < atoms.Length)
            {
                int g = atomGroup[atoms[p]];
                if (g < 0) { p++; continue; }
                var group = groups[g];
                if (!group.Reorderable) { p++; continue; }
                bool run = atomChannel[atoms[p]] == 0 && p + group.Channels <= atoms.Length;
                for (int k = 1; run && k < group.Channels; k++)
                    run = atomGroup[atoms[p + k]] == g && atomChannel[atoms[p + k]] == k;
                if (run)
                {
                    p += group.Channels;
                }
                else
                {
                    group.Reorderable = false;
                    p++;
                }
            }
        }
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

    /// <summary>The module names of the graph's layers with state, in graph order.</summary>
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

    private sealed class GroupBuilder(int id, bool isInput)
    {
        public int Id { get; } = id;
        public int Channels { get; set; }
        public List<string> Producers { get; } = [];
        public List<string> BatchNorms { get; } = [];
        public List<(string Module, int Span)> Consumers { get; } = [];
        public List<string> Others { get; } = [];
        public List<string> Reasons { get; } = [];
        public int[][]? Partition { get; set; }
        public bool Reorderable { get; set; } = true;

        public ChannelGroup ToGroup()
        {
            var reasons = new List<string>();
            if (isInput) reasons.Add(NetworkInputReason);
            reasons.AddRange(Reasons);
            return new ChannelGroup(Id, Channels, Distinct(Producers), Distinct(BatchNorms),
                Consumers.DistinctBy(c => c.Module).Select(c => new ChannelConsumer(c.Module, c.Span)).ToList(),
                reasons.Count == 0 ? null : string.Join("; ", reasons.Distinct(StringComparer.Ordinal)))
            {
                Others = Distinct(Others),
                Blocks = Partition?.Length ?? 1,
                Reorderable = Reorderable,
            };
        }

        private static List<string> Distinct(List<string> names) => names.Distinct(StringComparer.Ordinal).ToList();
    }
}

/// <summary>
/// The full result of <see cref="ChannelDependencyAnalyzer"/>: the groups, and where each channel of each group sits in
/// every state tensor and value (what the pruner needs to cut and to rewrite nodes).
/// </summary>
/// <param name="Groups">The groups, by id.</param>
/// <param name="Members">Every state tensor dimension indexed by channels.</param>
/// <param name="AtomGroup">Group of each atom (-1 for atoms of values no state tensor holds).</param>
/// <param name="AtomChannel">Channel index within its group of each atom.</param>
/// <param name="Partitions">Per group, its grouped-convolution blocks (channel indices), or null.</param>
/// <param name="Values">The channel layout of every value.</param>
internal sealed record ChannelAnalysis(IReadOnlyList<ChannelGroup> Groups, IReadOnlyList<ChannelMember> Members,
    int[] AtomGroup, int[] AtomChannel, int[][]?[] Partitions, IReadOnlyDictionary<string, ValueChannels> Values);

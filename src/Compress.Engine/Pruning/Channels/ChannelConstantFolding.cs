using System.Globalization;
using Compress.Engine.Models;
using Compress.Engine.Models.Graph;
using static TorchSharp.torch;

namespace Compress.Engine.Pruning.Channels;

/// <summary>
/// A removed channel whose filters are all zero (common in BatchNorm-folded imports after fine-grained pruning, or a
/// dead unit) still outputs a constant: its bias through the activation. Where that is exact, the constant's
/// contribution is folded into each consumer's bias before the channel goes, so the pruned model computes what the
/// unpruned one did. Exact means: the value the consumer reads is the same at every position for two different
/// inputs (nothing in between pads or mixes it), the consumer pads nothing and has a bias, and it is a dense
/// convolution or a linear layer. Otherwise the plan says so (<see cref="PrunedChannelGroup.Note"/>).
/// </summary>
internal static class ChannelConstantFolding
{
    /// <summary>The consumer biases to use instead of the model's (original shapes; owned by the caller), and a note
    /// per group id with dead channels removed.</summary>
    public static (Dictionary<string, Tensor> Biases, Dictionary<int, string> Notes) Fold(ClassifierModel model,
        ChannelAnalysis analysis, IReadOnlyList<int>[] kept, Dictionary<string, Tensor> state)
    {
        var biases = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var notes = new Dictionary<int, string>();
        var dead = DeadRemovedChannels(analysis, kept, state);
        if (dead.Count == 0) return (biases, notes);

        var nodes = model.DescribeGraph().Nodes.Where(n => n.StatePrefix is not null)
            .GroupBy(n => n.StatePrefix!, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        bool IsDead(int atom) => analysis.AtomGroup[atom] is int g && g >= 0 && dead.TryGetValue(g, out var set) && set.Contains(analysis.AtomChannel[atom]);
        var consumers = analysis.Members.Where(m => m.Role is ChannelRole.Consumer or ChannelRole.GroupedConsumer && m.Atoms.Any(IsDead)).ToList();
        var names = consumers.Select(m => nodes[m.Layer].Inputs[0]).ToHashSet(StringComparer.Ordinal);

        var (first, second) = Probe(model, names);
        var folded = new Dictionary<int, SortedSet<string>>();
        var problems = new Dictionary<int, SortedSet<string>>();
        try
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            foreach (var member in consumers)
            {
                var node = nodes[member.Layer];
                string? why = node switch
                {
                    _ when member.Role == ChannelRole.GroupedConsumer => $"'{member.Layer}' is a grouped convolution",
                    ConvNode { HasBias: false } or LinearNode { HasBias: false } => $"'{member.Layer}' has no bias",
                    ConvNode { Padding: > 0 } => $"'{member.Layer}' pads its input, so its border outputs see zeros instead",
                    ConvNode or LinearNode => null,
                    _ => $"'{member.Layer}' is a {node.Kind}",
                };
                var a = first[node.Inputs[0]];
                var b = second[node.Inputs[0]];
                string biasKey = member.Layer + ".bias";
                var weight = state[member.Key].detach().to(ScalarType.Float64);
                Tensor? delta = null;
                for (int p = 0; p < member.Atoms.Length; p++)
                {
                    int atom = member.Atoms[p];
                    if (!IsDead(atom)) continue;
                    int g = analysis.AtomGroup[atom];
                    for (int j = 0; j < member.Span && why is null; j++)
                    {
                        long feature = ((long)p * member.Span) + j;
                        double? value = Constant(a, b, node is LinearNode ? a.dim() - 1 : 1, feature);
                        if (value is null)
                        {
                            why = $"the value '{member.Layer}' reads is not constant (something between pads or mixes it)";
                            break;
                        }
                        // Conv: sum over the kernel of W[o, feature]; linear: W[o, feature].
                        var column = weight.select(1, feature);
                        if (column.dim() > 1) column = column.flatten(1).sum(1);
                        var add = column * value.Value;
                        delta = delta is null ? add : delta + add;
                    }
                    if (why is not null)
                    {
                        Add(problems, g, why);
                        delta = null;
                        break;
                    }
                    Add(folded, g, member.Layer);
                }
                if (delta is null) continue;
                var current = biases.TryGetValue(biasKey, out var existing) ? existing : state[biasKey].detach();
                var updated = (current.to(ScalarType.Float64) + delta).to(current.dtype).DetachFromDisposeScope();
                if (existing is not null) existing.Dispose();
                biases[biasKey] = updated;
            }
        }
        finally
        {
            foreach (var t in first.Values.Concat(second.Values)) t.Dispose();
        }

        foreach (var (group, channels) in dead)
        {
            var c = CultureInfo.InvariantCulture;
            string count = string.Create(c, $"{channels.Count} removed channel(s) with all-zero filters");
            if (problems.TryGetValue(group, out var why))
                notes[group] = $"{count}: their constant output is dropped, not folded, because {string.Join("; ", why)}";
            else if (folded.TryGetValue(group, out var into))
                notes[group] = $"{count}: their constant output is folded into the biases of {string.Join(", ", into.Select(l => "'" + l + "'"))}";
        }
        return (biases, notes);
    }

    private static void Add(Dictionary<int, SortedSet<string>> map, int group, string text)
    {
        if (!map.TryGetValue(group, out var set)) map[group] = set = new SortedSet<string>(StringComparer.Ordinal);
        set.Add(text);
    }

    /// <summary>Removed channels, per group, whose every producer filter is exactly zero.</summary>
    private static Dictionary<int, HashSet<int>> DeadRemovedChannels(ChannelAnalysis analysis, IReadOnlyList<int>[] kept,
        Dictionary<string, Tensor> state)
    {
        var result = new Dictionary<int, HashSet<int>>();
        var removed = new Dictionary<int, HashSet<int>>();
        foreach (var group in analysis.Groups.Where(g => g.IsPrunable))
        {
            var set = Enumerable.Range(0, group.Channels).Except(kept[group.Id]).ToHashSet();
            if (set.Count > 0) removed[group.Id] = set;
        }
        if (removed.Count == 0) return result;

        // A removed channel is dead when every producer's filter for it is exactly zero (and it has a producer).
        var alive = new HashSet<(int Group, int Channel)>();
        var produced = new HashSet<int>();
        using var scope = NewDisposeScope();
        foreach (var member in analysis.Members.Where(m => m.Role == ChannelRole.Producer && m.Key == m.Layer + ".weight"))
        {
            if (!member.Atoms.Any(a => removed.ContainsKey(analysis.AtomGroup[a]))) continue;
            var largest = state[member.Key].detach().flatten(1).abs().amax([1]).cpu().to(ScalarType.Float64).data<double>().ToArray();
            for (int p = 0; p < member.Atoms.Length; p++)
            {
                int g = analysis.AtomGroup[member.Atoms[p]];
                produced.Add(g);
                if (largest[p] != 0) alive.Add((g, analysis.AtomChannel[member.Atoms[p]]));
            }
        }
        foreach (var (group, channels) in removed)
        {
            if (!produced.Contains(group)) continue;
            var dead = channels.Where(c => !alive.Contains((group, c))).ToHashSet();
            if (dead.Count > 0) result[group] = dead;
        }
        return result;
    }

    /// <summary>The traced values for two different seeded inputs, in evaluation mode (the model's mode is restored;
    /// the global generator is not used).</summary>
    private static (Dictionary<string, Tensor>, Dictionary<string, Tensor>) Probe(ClassifierModel model, HashSet<string> names)
    {
        bool training = model.training;
        model.eval();
        try
        {
            using var noGrad = no_grad();
            var device = model.parameters().First().device;
            var dtype = model.parameters().First().dtype;
            var shape = model.InputShape;
            Dictionary<string, Tensor> Run(long seed)
            {
                using var generator = new Generator((ulong)seed);
                using var x = randn([2, shape.Channels, shape.Height, shape.Width], generator: generator).to(dtype).to(device);
                return model.Trace(x, names);
            }
            return (Run(11), Run(23));
        }
        finally
        {
            if (training) model.train();
        }
    }

    /// <summary>The value of <paramref name="index"/> on <paramref name="axis"/> when it is the same everywhere in both
    /// traces, else null.</summary>
    private static double? Constant(Tensor a, Tensor b, long axis, long index)
    {
        var x = a.select(axis, index).to(ScalarType.Float64);
        var y = b.select(axis, index).to(ScalarType.Float64);
        double first = x.flatten()[0].item<double>();
        double spread = Math.Max((x - first).abs().max().item<double>(), (y - first).abs().max().item<double>());
        return spread <= 1e-6 * Math.Max(1, Math.Abs(first)) ? first : null;
    }
}

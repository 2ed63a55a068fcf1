using Compress.Engine.Models.Graph;
using static TorchSharp.torch;

namespace Compress.Engine.Pruning.Channels;

/// <summary>
/// Where the kept channels of a plan go in every tensor. A value's channels after pruning are its channels before,
/// minus the removed ones; a reorderable group, which appears everywhere as one run in its own order, is rewritten as a
/// whole run in the plan's order. Both are functions of the value's layout alone, so both sides of an addition, a
/// concatenation and its consumer, a slice and its source stay in step.
/// </summary>
internal sealed class ChannelCut
{
    private readonly ChannelAnalysis _analysis;
    private readonly IReadOnlyList<int>[] _kept;
    private readonly HashSet<int>[] _keptSet;
    private readonly bool[] _changed;

    public ChannelCut(ChannelAnalysis analysis, IReadOnlyList<int>[] kept)
    {
        _analysis = analysis;
        _kept = kept;
        _keptSet = kept.Select(k => k.ToHashSet()).ToArray();
        _changed = analysis.Groups.Select(g => !kept[g.Id].SequenceEqual(Enumerable.Range(0, g.Channels))).ToArray();
    }

    /// <summary>Whether <paramref name="atom"/>'s channel stays.</summary>
    public bool IsKept(int atom)
    {
        int g = _analysis.AtomGroup[atom];
        return g < 0 || _keptSet[g].Contains(_analysis.AtomChannel[atom]);
    }

    /// <summary>Whether a layout loses or reorders any channel.</summary>
    public bool Changes(int[] atoms) => atoms.Any(a => _analysis.AtomGroup[a] is int g && g >= 0 && _changed[g]);

    /// <summary>The positions of <paramref name="atoms"/> that remain, in their new order.</summary>
    public List<int> NewOrder(int[] atoms)
    {
        var result = new List<int>(atoms.Length);
        int p = 0;
        while (p < atoms.Length)
        {
            int g = _analysis.AtomGroup[atoms[p]];
            if (g < 0 || !_changed[g])
            {
                result.Add(p++);
                continue;
            }
            var group = _analysis.Groups[g];
            if (group.Reorderable)
            {
                // The whole group starts here in its own order (checked by the analysis): channel k sits at p + k.
                foreach (int k in _kept[g]) result.Add(p + k);
                p += group.Channels;
                continue;
            }
            if (_keptSet[g].Contains(_analysis.AtomChannel[atoms[p]])) result.Add(p);
            p++;
        }
        return result;
    }

    /// <summary><paramref name="tensor"/> with every channel dimension of <paramref name="members"/> (all of this
    /// tensor) cut; a grouped convolution's input dimension block by block after its output rows.</summary>
    public Tensor Slice(Tensor tensor, IReadOnlyList<ChannelMember> members)
    {
        var value = tensor;
        foreach (var member in members.Where(m => m.Role != ChannelRole.GroupedConsumer).OrderBy(m => m.Dim))
            value = value.index_select(member.Dim, Indices(NewOrder(member.Atoms), member.Span, value.device));
        foreach (var member in members.Where(m => m.Role == ChannelRole.GroupedConsumer))
            value = SliceGrouped(value, member);
        return value;
    }

    /// <summary>
    /// A grouped convolution's weight <c>[out, in/g, ...]</c>: output block b keeps, of input block b, the channels its
    /// new input block holds (equal counts per block, so the kept positions split into g runs).
    /// </summary>
    private Tensor SliceGrouped(Tensor weight, ChannelMember member)
    {
        int blocks = member.Blocks, inPer = member.Atoms.Length / blocks;
        var order = NewOrder(member.Atoms);
        if (order.Count % blocks != 0) throw new InvalidOperationException($"'{member.Key}' would keep unequal blocks.");
        int keptPer = order.Count / blocks;
        long outPer = weight.shape[0] / blocks;
        var parts = new List<Tensor>();
        for (int b = 0; b < blocks; b++)
        {
            var within = order.Skip(b * keptPer).Take(keptPer).Select(q => q - (b * inPer)).ToList();
            if (within.Any(q => q < 0 || q >= inPer)) throw new InvalidOperationException($"'{member.Key}' block {b} would read another block.");
            parts.Add(weight.narrow(0, b * outPer, outPer).index_select(1, Indices(within, 1, weight.device)));
        }
        return cat(parts, 0);
    }

    private static Tensor Indices(List<int> positions, int span, Device device)
    {
        var indices = new long[positions.Count * span];
        for (int i = 0; i < positions.Count; i++)
            for (int j = 0; j < span; j++) indices[(i * span) + j] = ((long)positions[i] * span) + j;
        return tensor(indices, device: device);
    }
}

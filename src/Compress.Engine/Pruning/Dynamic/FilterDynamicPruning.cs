using Compress.Engine.Models;
using Compress.Engine.Models.Graph;
using Compress.Engine.Pruning.Channels;
using static TorchSharp.torch;

namespace Compress.Engine.Pruning.Dynamic;

/// <summary>
/// <see cref="DynamicPruning"/> of whole filters. The units are the channels of the prunable channel groups
/// (<see cref="ChannelDependencyAnalyzer"/>), so channels tied by a residual addition are masked together; a channel's
/// importance is the mean |w| of its filter, averaged over the group's producers; one global ranking over all groups
/// (of that importance divided by its group's mean, by default, or raw: <see cref="FilterRanking"/>) masks the least
/// important (every group keeps at least one channel, a grouped convolution's blocks the same number each). A masked channel masks its producers' filters and biases, its norms' scale and shift and any other tensor it
/// indexes (a depthwise filter, a layer scale), so it outputs exactly zero; <see cref="Compact"/> then removes it by
/// channel surgery, giving a smaller model with the same outputs.
/// </summary>
public sealed class FilterDynamicPruning : DynamicPruning
{
    private readonly ChannelAnalysis _analysis;
    private readonly List<ChannelGroup> _prunable;
    private readonly Dictionary<int, bool[]> _kept = [];
    private readonly List<(string Key, int Dim, int[] Atoms, int Span)> _masked = [];
    private readonly List<(string Key, int[] Atoms, int Span)> _filters = [];

    /// <summary>Prunes the filters of <paramref name="model"/> while it trains.</summary>
    /// <exception cref="Diagnostics.CompressException">CMP0702 for an ignored layer the model lacks; CMP0705 for a graph
    /// the channel analysis cannot follow.</exception>
    public FilterDynamicPruning(ClassifierModel model, DynamicPruningOptions options)
        : base(model, options with { Variant = DynamicPruningVariant.Filter })
    {
        _analysis = ChannelDependencyAnalyzer.AnalyzeModel(model, options.IgnoredLayers);
        _prunable = [.. _analysis.Groups.Where(g => g.IsPrunable)];
        var parameters = model.named_parameters().ToDictionary(p => p.name, p => p.parameter.dim(), StringComparer.Ordinal);
        foreach (var member in _analysis.Members)
        {
            if (member.Role is not (ChannelRole.Producer or ChannelRole.Norm or ChannelRole.Other)) continue;
            if (!parameters.TryGetValue(member.Key, out long dims)) continue; // running statistics: not trained
            if (!member.Atoms.Any(IsPrunableAtom)) continue;
            _masked.Add((member.Key, member.Dim, member.Atoms, member.Span));
            if (member.Role == ChannelRole.Producer && member.Dim == 0 && dims >= 2) _filters.Add((member.Key, member.Atoms, member.Span));
        }
        foreach (var group in _prunable) _kept[group.Id] = Enumerable.Repeat(true, group.Channels).ToArray();
    }

    /// <inheritdoc/>
    public override string Unit => "filters";

    /// <inheritdoc/>
    public override long Units => _prunable.Sum(g => (long)g.Channels);

    /// <summary>The prunable channel groups (their channels are the units).</summary>
    public IReadOnlyList<ChannelGroup> Groups => _prunable;

    /// <summary>
    /// The channel plan of the current mask: every group of the model in graph order, prunable ones keeping their
    /// unmasked channels (ascending), excluded ones whole.
    /// </summary>
    public IReadOnlyList<PrunedChannelGroup> Plan() =>
        [.. _analysis.Groups.Select(g => g.IsPrunable
            ? new PrunedChannelGroup(g, Options.Target, [.. Enumerable.Range(0, g.Channels).Where(c => _kept[g.Id][c])])
            : new PrunedChannelGroup(g, 0, [.. Enumerable.Range(0, g.Channels)]))];

    /// <summary>
    /// The model without its masked channels (call after training, when the model holds m (.) W): the same outputs,
    /// fewer MACs and parameters. The caller owns the result.
    /// </summary>
    public ChannelPruningResult Compact() => ChannelPruner.Apply(Model, Plan());

    /// <summary>Mean |w| of each channel's filters (over its group's producers), per prunable group.</summary>
    public Dictionary<int, double[]> Importance()
    {
        var sums = _prunable.ToDictionary(g => g.Id, g => new double[g.Channels]);
        var counts = _prunable.ToDictionary(g => g.Id, g => new int[g.Channels]);
        var state = Model.named_parameters().ToDictionary(p => p.name, p => (Tensor)p.parameter, StringComparer.Ordinal);
        using var noGrad = no_grad();
        foreach (var (key, atoms, span) in _filters)
        {
            using var scope = NewDisposeScope();
            var weight = state[key].detach();
            // One row per atom (its span of output rows together), mean |w| over the rest.
            double[] means = weight.abs().to(ScalarType.Float64).reshape(atoms.Length, -1).mean([1]).cpu().data<double>().ToArray();
            for (int p = 0; p < atoms.Length; p++)
            {
                int group = _analysis.AtomGroup[atoms[p]];
                if (!sums.TryGetValue(group, out var sum)) continue;
                int channel = _analysis.AtomChannel[atoms[p]];
                sum[channel] += means[p];
                counts[group][channel]++;
            }
        }
        foreach (var group in _prunable)
            for (int c = 0; c < group.Channels; c++)
                if (counts[group.Id][c] > 0) sums[group.Id][c] /= counts[group.Id][c];
        return sums;
    }

    /// <inheritdoc/>
    protected override (PruningMask Mask, long Masked, long Revived) Recompute(double sparsity)
    {
        var importance = Importance();
        // Normalized: each channel against its group's mean, so layers of small weights (a large fan-in) are not emptied
        // first; the order within a group is the same either way.
        var scores = Options.FilterRanking == FilterRanking.Raw ? importance : importance.ToDictionary(p => p.Key, p =>
        {
            double mean = p.Value.Average();
            return mean > 0 ? [.. p.Value.Select(v => v / mean)] : p.Value.Select(_ => 1.0).ToArray();
        });
        long total = Units;
        long toMask = (long)Math.Round(sparsity * total, MidpointRounding.ToEven);
        // One global ranking, least important first (ties: group order, then channel); each group keeps one channel.
        var keptCount = _prunable.ToDictionary(g => g.Id, g => g.Channels);
        var masked = _prunable.ToDictionary(g => g.Id, g => new bool[g.Channels]);
        long done = 0;
        foreach (var (_, group, channel) in _prunable
                     .SelectMany(g => Enumerable.Range(0, g.Channels).Select(c => (Score: scores[g.Id][c], Group: g.Id, Channel: c)))
                     .OrderBy(x => x.Score).ThenBy(x => x.Group).ThenBy(x => x.Channel))
        {
            if (done >= toMask) break;
            if (keptCount[group] <= 1) continue;
            masked[group][channel] = true;
            keptCount[group]--;
            done++;
        }
        // Widths rounded to a multiple of RoundTo: the group keeps its best channels up to the rounded count.
        if (Options.RoundTo > 1)
        {
            foreach (var group in _prunable.Where(g => _analysis.Partitions[g.Id] is null))
            {
                int rounded = ChannelPruner.KeptChannels(group.Channels, 1.0 - ((double)keptCount[group.Id] / group.Channels), Options.RoundTo);
                var order = Enumerable.Range(0, group.Channels).OrderByDescending(c => scores[group.Id][c]).ThenBy(c => c).ToList();
                for (int i = 0; i < order.Count; i++) masked[group.Id][order[i]] = i >= rounded;
                keptCount[group.Id] = rounded;
            }
        }
        // A grouped convolution's blocks keep equally many: the group's count spread evenly, the best of each block.
        foreach (var group in _prunable)
        {
            if (_analysis.Partitions[group.Id] is not { } partition) continue;
            int perBlock = Math.Max(1, (int)Math.Round((double)keptCount[group.Id] / partition.Length, MidpointRounding.ToEven));
            var flags = masked[group.Id];
            Array.Fill(flags, true);
            foreach (int[] block in partition)
                foreach (int c in block.OrderByDescending(c => importance[group.Id][c]).ThenBy(c => c).Take(Math.Min(perBlock, block.Length)))
                    flags[c] = false;
        }

        long revived = 0, maskedUnits = 0;
        foreach (var group in _prunable)
        {
            bool[] kept = _kept[group.Id];
            for (int c = 0; c < group.Channels; c++)
            {
                bool keep = !masked[group.Id][c];
                if (keep && !kept[c] && Updates.Count > 0) revived++;
                if (!keep) maskedUnits++;
                kept[c] = keep;
            }
        }
        return (BuildMask(), maskedUnits, revived);
    }

    private bool IsPrunableAtom(int atom) => _analysis.AtomGroup[atom] >= 0 && _analysis.Groups[_analysis.AtomGroup[atom]].IsPrunable;

    /// <summary>Bool masks of every masked member's parameter, from <see cref="_kept"/>.</summary>
    private PruningMask BuildMask()
    {
        var state = Model.named_parameters().ToDictionary(p => p.name, p => (Tensor)p.parameter, StringComparer.Ordinal);
        var flags = new Dictionary<string, bool[]>(StringComparer.Ordinal);
        var dims = new Dictionary<string, int>(StringComparer.Ordinal);
        var masks = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (key, dim, atoms, span) in _masked)
        {
            var shape = state[key].shape;
            if (!flags.TryGetValue(key, out var keep))
            {
                flags[key] = keep = Enumerable.Repeat(true, checked((int)shape[dim])).ToArray();
                dims[key] = dim;
            }
            else if (dims[key] != dim)
            {
                continue; // a tensor indexed by channels on two axes: the first one decides
            }
            for (int p = 0; p < atoms.Length; p++)
            {
                int group = _analysis.AtomGroup[atoms[p]];
                if (!_kept.TryGetValue(group, out var kept) || kept[_analysis.AtomChannel[atoms[p]]]) continue;
                for (int i = 0; i < span; i++) keep[(p * span) + i] = false;
            }
        }
        foreach (var (key, keep) in flags)
        {
            var parameter = state[key];
            long[] view = [.. Enumerable.Repeat(1L, (int)parameter.dim())];
            view[dims[key]] = keep.Length;
            using var scope = NewDisposeScope();
            masks[key] = tensor(keep).reshape(view).expand(parameter.shape).contiguous().to(parameter.device).DetachFromDisposeScope();
        }
        return new PruningMask(masks);
    }
}

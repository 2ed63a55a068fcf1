using System.Globalization;
using Compress.Engine.Diagnostics;

namespace Compress.Engine.Models.Graph;

/// <summary>
/// What <see cref="GraphNode.Couple"/> writes to, Torch-Pruning's dependency rules on our graph at the level of single
/// channels. Every producer (a dense convolution or linear layer) makes fresh channel <em>atoms</em>, one per output
/// channel, born in a new raw group. Each value records which atom each index of its channel axis carries
/// (<see cref="ValueChannels"/>), so a concatenation is the list of its inputs' atoms, a slice a part of it, a shuffle a
/// permutation. Ops that tie channels (an addition, a channel-wise gate) unite atoms one to one, and the atoms' raw
/// groups with them. Every state tensor dimension indexed by channels is a <see cref="ChannelMember"/> with the atoms of
/// its indices. What the analysis cannot follow is never guessed: the groups involved are excluded with a reason.
/// </summary>
internal sealed class CouplingContext
{
    private readonly List<int> _atomParent = [];
    private readonly List<int> _atomBirth = [];
    private readonly List<int> _groupParent = [];
    private readonly Dictionary<string, ValueChannels> _values = new(StringComparer.Ordinal);
    private readonly IReadOnlyDictionary<string, long[]> _shapes;

    /// <summary>Starts with the network input's group (raw id 0), whose channels are axis 0 of
    /// <paramref name="shapes"/>[<paramref name="input"/>].</summary>
    /// <param name="input">The graph input's value name.</param>
    /// <param name="shapes">Per-image shape of every value (shape inference's result).</param>
    /// <param name="stateShapes">Shape of every state tensor.</param>
    public CouplingContext(string input, IReadOnlyDictionary<string, long[]> shapes, IReadOnlyDictionary<string, long[]> stateShapes)
    {
        _shapes = shapes;
        StateShapes = stateShapes;
        int group = NewGroup();
        Groups[group].IsInput = true;
        _values[input] = new ValueChannels(NewAtoms(group, checked((int)Shape(input)[0])), 0, 1);
    }

    /// <summary>The raw groups in creation (graph) order; merged ones are found through <see cref="FindGroup"/>.</summary>
    internal List<RawChannelGroup> Groups { get; } = [];

    /// <summary>Every state tensor dimension indexed by channels, in graph order.</summary>
    internal List<ChannelMember> Members { get; } = [];

    /// <summary>Grouped convolutions' block constraints: the atoms of a value split into equal blocks that must each
    /// keep the same number of channels.</summary>
    internal List<(int[] Atoms, int Blocks, string Layer)> Partitions { get; } = [];

    /// <summary>The channel layout of every value written so far.</summary>
    internal IReadOnlyDictionary<string, ValueChannels> Values => _values;

    /// <summary>Shape of every state tensor, by key.</summary>
    public IReadOnlyDictionary<string, long[]> StateShapes { get; }

    /// <summary>Number of atoms made so far.</summary>
    internal int AtomCount => _atomParent.Count;

    /// <summary>The per-image shape of <paramref name="value"/>.</summary>
    public long[] Shape(string value) => _shapes.TryGetValue(value, out var shape)
        ? shape
        : throw new ArgumentException($"No shape was inferred for '{value}'.", nameof(value));

    /// <summary>The channel layout of <paramref name="value"/>, read by <paramref name="node"/>.</summary>
    public ValueChannels Read(GraphNode node, string value) =>
        _values.TryGetValue(value, out var v)
            ? v
            : throw Unsupported($"graph node '{node.Name}' reads '{value}', which no earlier node writes");

    /// <summary>The layout of <paramref name="value"/>, or null when no node wrote it.</summary>
    public ValueChannels? TryRead(string value) => _values.GetValueOrDefault(value);

    /// <summary>Records <paramref name="value"/>'s layout.</summary>
    public void Write(string value, ValueChannels channels) => _values[value] = channels;

    /// <summary>The node's output carries its first input's channels unchanged (element-wise ops, pooling).</summary>
    public void PassThrough(GraphNode node) => _values[node.Output] = Read(node, node.Inputs[0]);

    /// <summary>A spatial op (pooling, padding): channels on axis 0 pass through.</summary>
    public void Spatial(GraphNode node) => Write(node.Output, new ValueChannels(AtomsOn(node, node.Inputs[0], 0), 0, 1));

    /// <summary>
    /// An element-wise op of two values (a residual addition, a gate times what it gates): same-sized channel axes are
    /// tied channel by channel; a side with one element on the other's channel axis is broadcast. Anything else is
    /// excluded. Writes the output's layout unless <paramref name="write"/> is false.
    /// </summary>
    public void Tie(GraphNode node, string left, string right, bool write = true)
    {
        var x = Read(node, left);
        var y = Read(node, right);
        long[] xs = Shape(left), ys = Shape(right);
        ValueChannels? result = null;
        if (x.Axis == y.Axis && x.Span == y.Span && x.Atoms.Length == y.Atoms.Length)
        {
            Unite(x.Atoms, y.Atoms);
            result = x;
        }
        else if (Broadcast(x, y, ys)) result = x;
        else if (Broadcast(y, x, xs)) result = y;
        result ??= Opaque(node.Output, x.Axis, $"'{node.Name}' ({node.Kind}) combines '{left}' and '{right}', whose channels do not line up", x, y);
        if (write) Write(node.Output, result);
    }

    /// <summary>Whether <paramref name="other"/> (shape <paramref name="otherShape"/>) is broadcast along
    /// <paramref name="channels"/>' channel axis, carrying a single channel there.</summary>
    private static bool Broadcast(ValueChannels channels, ValueChannels other, long[] otherShape) =>
        channels.Atoms.Length * channels.Span > 1 && channels.Axis < otherShape.Length && otherShape[channels.Axis] == 1 &&
        (other.Axis == channels.Axis || other.Atoms.Length == 1);

    /// <summary>A new, empty raw group.</summary>
    public int NewGroup()
    {
        Groups.Add(new RawChannelGroup());
        _groupParent.Add(_groupParent.Count);
        return Groups.Count - 1;
    }

    /// <summary><paramref name="count"/> fresh atoms born in <paramref name="group"/>.</summary>
    public int[] NewAtoms(int group, int count)
    {
        var atoms = new int[count];
        for (int i = 0; i < count; i++)
        {
            atoms[i] = _atomParent.Count;
            _atomParent.Add(atoms[i]);
            _atomBirth.Add(group);
            Groups[group].Atoms.Add(atoms[i]);
        }
        return atoms;
    }

    /// <summary>A new group of <paramref name="count"/> atoms (a producer's out channels).</summary>
    public int[] Produce(int count) => NewAtoms(NewGroup(), count);

    /// <summary>
    /// A new group that nothing may prune, for a value the analysis cannot map to channels it knows: its axis
    /// <paramref name="axis"/> gets fresh atoms, and <paramref name="excluded"/>'s groups are excluded with
    /// <paramref name="reason"/> (what produced them must keep every channel).
    /// </summary>
    public ValueChannels Opaque(string value, int axis, string reason, params ValueChannels?[] excluded)
    {
        foreach (var channels in excluded)
            if (channels is not null) Exclude(channels.Atoms, reason);
        long[] shape = Shape(value);
        int group = NewGroup();
        Groups[group].Reasons.Add(reason);
        int count = shape.Length == 0 ? 1 : checked((int)shape[Math.Min(axis, shape.Length - 1)]);
        return new ValueChannels(NewAtoms(group, count), shape.Length == 0 ? 0 : Math.Min(axis, shape.Length - 1), 1);
    }

    /// <summary>Excludes the groups of <paramref name="atoms"/> with <paramref name="reason"/>.</summary>
    public void Exclude(IEnumerable<int> atoms, string reason)
    {
        foreach (int group in atoms.Select(a => FindGroup(_atomBirth[a])).Distinct())
            Groups[group].Reasons.Add(reason);
    }

    /// <summary>
    /// Ties two layouts index by index (both sides of an addition, a gate and what it gates): their atoms become one
    /// channel each, and their groups one group. Lengths must agree.
    /// </summary>
    public void Unite(IReadOnlyList<int> a, IReadOnlyList<int> b)
    {
        if (a.Count != b.Count) throw new ArgumentException("Only layouts of the same length can be united.");
        for (int i = 0; i < a.Count; i++) UniteAtoms(a[i], b[i]);
    }

    /// <summary>Ties two atoms (and their groups).</summary>
    public void UniteAtoms(int a, int b)
    {
        a = FindAtom(a);
        b = FindAtom(b);
        if (a != b) _atomParent[Math.Max(a, b)] = Math.Min(a, b);
        int ga = FindGroup(_atomBirth[a]), gb = FindGroup(_atomBirth[b]);
        if (ga != gb) _groupParent[Math.Max(ga, gb)] = Math.Min(ga, gb);
    }

    /// <summary>The representative of the atoms tied to <paramref name="atom"/>.</summary>
    public int FindAtom(int atom)
    {
        while (_atomParent[atom] != atom) atom = _atomParent[atom] = _atomParent[_atomParent[atom]];
        return atom;
    }

    /// <summary>The raw group <paramref name="group"/> was merged into (itself when not merged; the smallest id of its set).</summary>
    public int FindGroup(int group)
    {
        while (_groupParent[group] != group) group = _groupParent[group] = _groupParent[_groupParent[group]];
        return group;
    }

    /// <summary>The raw group an atom was born in.</summary>
    public int BirthGroup(int atom) => _atomBirth[atom];

    /// <summary>Records that dimension <paramref name="dim"/> of state tensor <paramref name="key"/> is indexed by
    /// <paramref name="atoms"/>, each covering <paramref name="span"/> consecutive indices.</summary>
    public void AddMember(string key, int dim, IReadOnlyList<int> atoms, ChannelRole role, string layer, int span = 1, int blocks = 1)
    {
        if (!StateShapes.ContainsKey(key)) return; // an optional tensor (no bias, no running statistics)
        Members.Add(new ChannelMember(key, dim, atoms.ToArray(), span, role, layer, blocks));
    }

    /// <summary>
    /// The atoms on axis <paramref name="axis"/> of <paramref name="value"/> one at a time (span 1), as a layer that reads
    /// that axis needs them. When the value's channels are elsewhere (a transposed or flattened value), what
    /// <paramref name="node"/> reads cannot be mapped: the value's groups are excluded and fresh, excluded atoms returned.
    /// </summary>
    public int[] AtomsOn(GraphNode node, string value, int axis)
    {
        var channels = Read(node, value);
        if (channels.Axis == axis && channels.Span == 1) return channels.Atoms;
        string blocks = channels.Span == 1 ? "" : " in blocks of " + channels.Span.ToString(CultureInfo.InvariantCulture);
        string reason = string.Create(CultureInfo.InvariantCulture,
            $"'{node.Name}' ({node.Kind}) reads axis {axis + 1} of '{value}', whose channels are on axis {channels.Axis + 1}{blocks}");
        long[] shape = Shape(value);
        Exclude(channels.Atoms, reason);
        int group = NewGroup();
        Groups[group].Reasons.Add(reason);
        return NewAtoms(group, checked((int)shape[axis]));
    }

    /// <summary>CMP0705 with <paramref name="what"/>.</summary>
    public static CompressException Unsupported(string what) =>
        new(DiagnosticCode.UnsupportedChannelGraph, $"Channel dependency analysis failed: {what}.",
            hint: "Channel pruning follows convolutions, BatchNorm, linear layers, additions and shape-preserving ops; " +
                  "prune this model fine-grained (unstructured) instead.");
}

/// <summary>
/// Which channel atom each index of a value's channel axis carries.
/// </summary>
/// <param name="Atoms">One atom per channel, in index order.</param>
/// <param name="Axis">The channel axis of the per-image shape (0 for <c>[C, H, W]</c>).</param>
/// <param name="Span">Consecutive indices of that axis per atom: 1, or <c>H x W</c> once a feature map is flattened.</param>
internal sealed record ValueChannels(int[] Atoms, int Axis, int Span);

/// <summary>What a state tensor dimension is to its channels.</summary>
internal enum ChannelRole
{
    /// <summary>A dense convolution's or linear layer's out channels (weight dim 0, bias).</summary>
    Producer,

    /// <summary>A BatchNorm's or LayerNorm's vectors.</summary>
    Norm,

    /// <summary>A dense convolution's or linear layer's input channels (weight dim 1); its importance counts.</summary>
    Consumer,

    /// <summary>A grouped convolution's input channels (weight dim 1 holds one block per output block).</summary>
    GroupedConsumer,

    /// <summary>Anything else indexed by channels: a depthwise convolution's filters, a per-channel constant.</summary>
    Other,
}

/// <summary>A state tensor dimension indexed by channels.</summary>
/// <param name="Key">State key, e.g. <c>features.3.conv.0.weight</c>.</param>
/// <param name="Dim">The dimension.</param>
/// <param name="Atoms">The atom of each channel index (for <see cref="ChannelRole.GroupedConsumer"/>: of the
/// convolution's whole input, <see cref="Blocks"/> blocks).</param>
/// <param name="Span">Indices per atom.</param>
/// <param name="Role">What the dimension is.</param>
/// <param name="Layer">Module name (or state key for a constant).</param>
/// <param name="Blocks">Groups of a grouped convolution's input (1 otherwise).</param>
internal sealed record ChannelMember(string Key, int Dim, int[] Atoms, int Span, ChannelRole Role, string Layer, int Blocks);

/// <summary>One raw channel group while the graph is walked.</summary>
internal sealed class RawChannelGroup
{
    public bool IsInput { get; set; }
    public List<int> Atoms { get; } = [];
    public List<string> Reasons { get; } = [];
}

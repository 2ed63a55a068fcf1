using Compress.Engine.Diagnostics;

namespace Compress.Engine.Models.Graph;

/// <summary>
/// What <see cref="GraphNode.Couple"/> writes to: channel groups under construction (a union-find over groups, each
/// with its producers, BatchNorms, consumers and the reasons it may not be pruned) and, per value, the group its
/// channels belong to and whether the value has been flattened (so a linear layer reads several features per channel).
/// </summary>
internal sealed class CouplingContext
{
    private readonly List<int> _parent = [];
    private readonly Dictionary<string, (int Group, bool Flattened)> _values = new(StringComparer.Ordinal);

    /// <summary>Starts with the network input's group (id 0).</summary>
    public CouplingContext(string input)
    {
        int group = NewGroup();
        Groups[group].IsInput = true;
        _values[input] = (group, false);
    }

    /// <summary>The groups in creation (graph) order; merged ones are found through <see cref="Find"/>.</summary>
    internal List<RawChannelGroup> Groups { get; } = [];

    /// <summary>The group and flattening of <paramref name="value"/>, read by <paramref name="node"/>.</summary>
    public (int Group, bool Flattened) Read(GraphNode node, string value) =>
        _values.TryGetValue(value, out var v)
            ? v
            : throw Unsupported($"graph node '{node.Name}' reads '{value}', which no earlier node writes");

    /// <summary>The group and flattening of <paramref name="value"/>, or null when no node wrote it.</summary>
    public (int Group, bool Flattened)? TryRead(string value) => _values.TryGetValue(value, out var v) ? v : null;

    /// <summary>Records that <paramref name="value"/>'s channels are those of <paramref name="group"/>.</summary>
    public void Write(string value, int group, bool flattened = false) => _values[value] = (group, flattened);

    /// <summary>The node's output carries its first input's channels unchanged (element-wise ops, pooling).</summary>
    public void PassThrough(GraphNode node) => _values[node.Output] = Read(node, node.Inputs[0]);

    /// <summary>A new, empty group (a new set of channels, e.g. a convolution's outputs).</summary>
    public int NewGroup()
    {
        Groups.Add(new RawChannelGroup());
        _parent.Add(_parent.Count);
        return Groups.Count - 1;
    }

    /// <summary>The group <paramref name="group"/> has been merged into (itself when not merged).</summary>
    public int Find(int group)
    {
        while (_parent[group] != group) group = _parent[group] = _parent[_parent[group]];
        return group;
    }

    /// <summary>Merges two groups (their channels must shrink together, as both sides of an addition); returns the
    /// surviving id, the smaller one so graph order is kept.</summary>
    public int Union(int a, int b)
    {
        a = Find(a);
        b = Find(b);
        if (a != b) _parent[Math.Max(a, b)] = Math.Min(a, b);
        return Math.Min(a, b);
    }

    /// <summary>The raw data of <paramref name="group"/>.</summary>
    public RawChannelGroup this[int group] => Groups[group];

    /// <summary>CMP0705 with <paramref name="what"/>.</summary>
    public static CompressException Unsupported(string what) =>
        new(DiagnosticCode.UnsupportedChannelGraph, $"Channel dependency analysis failed: {what}.",
            hint: "Channel pruning follows convolutions, BatchNorm, linear layers, additions and shape-preserving ops; " +
                  "prune this model fine-grained (unstructured) instead.");
}

/// <summary>One channel group while the graph is walked.</summary>
internal sealed class RawChannelGroup
{
    public bool IsInput { get; set; }
    public List<string> Producers { get; } = [];
    public List<string> BatchNorms { get; } = [];
    public List<(string Module, bool IsLinear)> Consumers { get; } = [];
    public List<string> Reasons { get; } = [];
}

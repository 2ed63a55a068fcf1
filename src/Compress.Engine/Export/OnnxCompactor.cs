using Onnx;

namespace Compress.Engine.Export;

/// <summary>
/// Turns unstructured pruning into a smaller dense model at the ONNX level. A Conv output channel whose whole filter
/// and bias are exactly zero (or whose only nonzero weights read channels that are themselves dead) is all zero for
/// every input; that deadness is followed through Relu, MaxPool, AveragePool, GlobalAveragePool, Flatten, Add (dead
/// only when dead on every branch) and BatchNormalization (only where beta - mean * scale / sqrt(var + eps) is exactly
/// zero). A dead channel is removed from its producers (Conv weight rows and bias entries, BatchNorm parameters) and
/// from every consumer (Conv weight input channels, Gemm weight columns through Flatten), but only where that is
/// exact: never for a graph output, a grouped conv, a shared initializer or an operator this class does not know.
/// Channels coupled by residual Adds are removed as one set (the intersection of what is dead on every branch).
/// At least one channel of every value is kept, so no tensor becomes empty.
/// </summary>
public static class OnnxCompactor
{
    private const int MaxPasses = 16;

    /// <summary>Compacts a copy of <paramref name="model"/>; <paramref name="model"/> itself is not modified.</summary>
    /// <exception cref="Compress.Engine.Diagnostics.CompressException">
    /// <see cref="Compress.Engine.Diagnostics.DiagnosticCode.OnnxGraphUnsupported"/> when the graph cannot be profiled.
    /// </exception>
    public static CompactionResult Compact(ModelProto model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var before = OnnxProfile.Measure(model);
        var result = model.Clone();
        var trackers = new SortedDictionary<int, LayerTracker>();
        // One pass normally reaches the fixed point; further passes only make "compact twice = compact once" certain.
        for (var pass = 0; pass < MaxPasses && CompactOnce(result, trackers); pass++)
        {
        }
        var after = OnnxProfile.Measure(result);
        var nodes = trackers.Values.Select(t => t.ToReport()).ToList();
        return new CompactionResult(result, nodes, before, after, model.CalculateSize(), result.CalculateSize());
    }

    /// <summary>Channel structure of a value: channels along axis 1 (per image: axis 0), each a block of columns.</summary>
    private sealed record ChannelInfo(int Channels, int Block, HashSet<int> Dead);

    private sealed class LayerTracker(string nodeName, string opType, string weightName, long outBefore, long inBefore)
    {
        private readonly List<int> _removed = [];
        private List<int> _remaining = [.. Enumerable.Range(0, (int)outBefore)];
        public long InAfter { get; set; } = -1;

        public void RemoveOutputs(HashSet<int> current)
        {
            _removed.AddRange(current.Select(i => _remaining[i]));
            _remaining = [.. _remaining.Where((_, i) => !current.Contains(i))];
        }

        public CompactedNode ToReport() =>
            new(nodeName, opType, weightName, outBefore, _remaining.Count, inBefore, InAfter < 0 ? inBefore : InAfter, [.. _removed.Order()]);
    }

    private sealed class PassState(GraphProto graph)
    {
        public GraphProto Graph { get; } = graph;
        public Dictionary<string, TensorProto> Initializers { get; } = graph.Initializer.ToDictionary(t => t.Name, StringComparer.Ordinal);
        public Dictionary<string, int> InitializerUses { get; } = new(StringComparer.Ordinal);
        public Dictionary<string, (long[] Dims, float[] Data)> Edited { get; } = new(StringComparer.Ordinal);
        private readonly Dictionary<string, (long[] Dims, float[] Data)> _read = new(StringComparer.Ordinal);

        /// <summary>True when <paramref name="name"/> is a float initializer read by exactly one node input.</summary>
        public bool IsPrivateFloat(string name) =>
            Initializers.TryGetValue(name, out var t) && OnnxFloatTensor.IsReadable(t) && InitializerUses.GetValueOrDefault(name) == 1;

        public (long[] Dims, float[] Data) Get(string name)
        {
            if (Edited.TryGetValue(name, out var e))
                return e;
            if (!_read.TryGetValue(name, out var r))
            {
                var t = Initializers[name];
                r = ([.. t.Dims], OnnxFloatTensor.Read(t));
                _read[name] = r;
            }
            return r;
        }

        public void Slice(string name, int axis, IReadOnlySet<int> drop, int block = 1)
        {
            var (dims, data) = Get(name);
            Edited[name] = OnnxFloatTensor.Slice(dims, data, axis, drop, block);
        }
    }

    private static bool CompactOnce(ModelProto model, SortedDictionary<int, LayerTracker> trackers)
    {
        var graph = model.Graph;
        var state = new PassState(graph);
        var producers = new Dictionary<string, int>(StringComparer.Ordinal);
        var consumers = new Dictionary<string, List<(int Node, int Input)>>(StringComparer.Ordinal);
        for (var i = 0; i < graph.Node.Count; i++)
        {
            var node = graph.Node[i];
            foreach (var output in node.Output)
                producers[output] = i;
            for (var j = 0; j < node.Input.Count; j++)
            {
                var input = node.Input[j];
                if (input.Length == 0)
                    continue;
                if (state.Initializers.ContainsKey(input))
                    state.InitializerUses[input] = state.InitializerUses.GetValueOrDefault(input) + 1;
                if (!consumers.TryGetValue(input, out var list))
                    consumers[input] = list = [];
                list.Add((i, j));
            }
        }
        var boundary = new HashSet<string>(graph.Output.Select(o => o.Name), StringComparer.Ordinal);
        boundary.UnionWith(graph.Input.Select(o => o.Name));
        // Per-image shapes by the graph's shape rules; a graph the importer cannot read has none, and nothing whose
        // shape is needed is compacted.
        var shapes = Models.Onnx.OnnxImporter.ValueShapes(model);

        // 1. Forward: channel structure and dead channels of every value the supported operators produce.
        var info = new Dictionary<string, ChannelInfo>(StringComparer.Ordinal);
        var passThrough = new HashSet<int>();
        for (var i = 0; i < graph.Node.Count; i++)
        {
            var node = graph.Node[i];
            var produced = Forward(node, state, info, shapes);
            if (produced is null)
                continue;
            info[node.Output[0]] = produced;
            if (node.OpType != "Conv")
                passThrough.Add(i);
        }

        // 2. Values joined by pass-through operators must lose the same channels.
        var parent = info.Keys.ToDictionary(k => k, k => k, StringComparer.Ordinal);
        string Find(string v)
        {
            while (parent[v] != v)
                v = parent[v] = parent[parent[v]];
            return v;
        }
        foreach (var i in passThrough)
        {
            var node = graph.Node[i];
            foreach (var input in ChannelInputs(node))
                parent[Find(input)] = Find(node.Output[0]);
        }
        var groups = info.Keys.GroupBy(Find, StringComparer.Ordinal).Select(g => g.ToList()).ToList();

        // 3. Remove the channels dead in every member of a group whose producers and consumers can all drop them.
        var changed = false;
        foreach (var members in groups)
        {
            var channels = info[members[0]].Channels;
            if (members.Any(v => info[v].Channels != channels) || !CanRemove(members, state, info, producers, consumers, passThrough, boundary))
                continue;
            var drop = new HashSet<int>(info[members[0]].Dead);
            foreach (var v in members)
                drop.IntersectWith(info[v].Dead);
            if (drop.Count == channels)
                drop.Remove(drop.Min());
            if (drop.Count == 0)
                continue;
            Apply(members, drop, state, info, producers, consumers, passThrough, trackers);
            changed = true;
        }

        foreach (var (name, (dims, data)) in state.Edited)
        {
            OnnxFloatTensor.Write(state.Initializers[name], dims, data);
            // Old IR versions also list initializers as graph inputs; keep their declared shape in step.
            foreach (var input in graph.Input.Where(x => x.Name == name))
                SetDims(input, dims);
        }
        return changed;
    }

    private static string[] ChannelInputs(NodeProto node) =>
        node.OpType == "Add" ? [.. node.Input] : [node.Input[0]];

    private static bool SingleOutput(NodeProto node) =>
        node.Output.Count >= 1 && node.Output.Skip(1).All(o => o.Length == 0);

    private static ChannelInfo? Forward(NodeProto node, PassState state, Dictionary<string, ChannelInfo> info, Dictionary<string, long[]> shapes)
    {
        if (!SingleOutput(node) || node.Input.Count == 0)
            return null;
        switch (node.OpType)
        {
            case "Conv":
                {
                    if (node.Input.Count < 2 || !state.Initializers.TryGetValue(node.Input[1], out var wt) || wt.Dims.Count != 4)
                        return null;
                    var cout = (int)wt.Dims[0];
                    var dead = new HashSet<int>();
                    var bias = node.Input.Count > 2 && node.Input[2].Length > 0 ? node.Input[2] : null;
                    if (OnnxAttributes.Int(node, "group", 1) == 1 && OnnxFloatTensor.IsReadable(wt)
                        && (bias is null || (state.Initializers.TryGetValue(bias, out var bt) && OnnxFloatTensor.IsReadable(bt))))
                    {
                        var inDead = info.TryGetValue(node.Input[0], out var ii) && ii.Block == 1 && ii.Channels == wt.Dims[1] ? ii.Dead : [];
                        dead = DeadConvOutputs(state.Get(node.Input[1]), bias is null ? null : state.Get(bias).Data, inDead);
                    }
                    return new ChannelInfo(cout, 1, dead);
                }
            case "Relu" or "MaxPool" or "AveragePool" or "GlobalAveragePool" or "GlobalMaxPool":
                // Relu(0) = 0; a window of zeros pools to 0 (MaxPool pads with -inf, AveragePool with excluded or zero pads).
                return info.TryGetValue(node.Input[0], out var x) && x.Block == 1 ? x with { Dead = [.. x.Dead] } : null;
            case "Flatten":
                {
                    if (OnnxAttributes.Int(node, "axis", 1) != 1 || !info.TryGetValue(node.Input[0], out var fx) || fx.Block != 1
                        || !shapes.TryGetValue(node.Input[0], out var s) || s.Length == 0 || s[0] != fx.Channels)
                        return null;
                    // NCHW flattens channel-major: channel c becomes columns [c*H*W, (c+1)*H*W).
                    return new ChannelInfo(fx.Channels, (int)s.Skip(1).Aggregate(1L, (a, b) => a * b), [.. fx.Dead]);
                }
            case "Add":
                {
                    if (!shapes.ContainsKey(node.Output[0]) || node.Input.Any(v => !info.ContainsKey(v)))
                        return null;
                    var first = info[node.Input[0]];
                    if (node.Input.Any(v => info[v].Channels != first.Channels || info[v].Block != first.Block))
                        return null;
                    var dead = new HashSet<int>(first.Dead);
                    foreach (var v in node.Input)
                        dead.IntersectWith(info[v].Dead);
                    return new ChannelInfo(first.Channels, first.Block, dead);
                }
            case "BatchNormalization":
                {
                    if (node.Input.Count != 5 || OnnxAttributes.Int(node, "training_mode", 0) != 0
                        || !info.TryGetValue(node.Input[0], out var bx) || bx.Block != 1
                        || node.Input.Skip(1).Any(p => !state.Initializers.TryGetValue(p, out var t) || !OnnxFloatTensor.IsReadable(t)
                                                       || OnnxFloatTensor.ElementCount(t) != bx.Channels))
                        return null;
                    var scale = state.Get(node.Input[1]).Data;
                    var beta = state.Get(node.Input[2]).Data;
                    var mean = state.Get(node.Input[3]).Data;
                    // BN(0) = beta - mean * scale / sqrt(var + eps): exactly zero only when beta is zero and the
                    // product is exactly zero; anything else would need a constant folded downstream.
                    var dead = bx.Dead.Where(c => beta[c] == 0 && (mean[c] == 0 || scale[c] == 0)).ToHashSet();
                    return new ChannelInfo(bx.Channels, 1, dead);
                }
            default:
                return null;
        }
    }

    private static HashSet<int> DeadConvOutputs((long[] Dims, float[] Data) weight, float[]? bias, HashSet<int> deadInputs)
    {
        var (dims, w) = weight;
        int cout = (int)dims[0], cin = (int)dims[1], k = (int)(dims[2] * dims[3]);
        var dead = new HashSet<int>();
        for (var co = 0; co < cout; co++)
        {
            if (bias is not null && bias[co] != 0)
                continue;
            var isDead = true;
            for (var ci = 0; ci < cin && isDead; ci++)
            {
                // Weights reading a dead (all-zero) input channel contribute 0, provided they are finite.
                var readsDead = deadInputs.Contains(ci);
                var span = w.AsSpan(((co * cin) + ci) * k, k);
                foreach (var v in span)
                {
                    if (readsDead ? !float.IsFinite(v) : v != 0)
                    {
                        isDead = false;
                        break;
                    }
                }
            }
            if (isDead)
                dead.Add(co);
        }
        return dead;
    }

    private static bool CanRemove(List<string> members, PassState state, Dictionary<string, ChannelInfo> info, Dictionary<string, int> producers,
        Dictionary<string, List<(int Node, int Input)>> consumers, HashSet<int> passThrough, HashSet<string> boundary)
    {
        var graph = state.Graph;
        foreach (var v in members)
        {
            if (boundary.Contains(v) || !producers.TryGetValue(v, out var p))
                return false;
            var producer = graph.Node[p];
            if (producer.OpType == "Conv" && !CanDropConvOutputs(producer, state, info[v].Channels))
                return false;
            if (producer.OpType == "BatchNormalization" && producer.Input.Skip(1).Any(n => !state.IsPrivateFloat(n)))
                return false;
            foreach (var (n, j) in consumers.GetValueOrDefault(v) ?? [])
            {
                var consumer = graph.Node[n];
                var ok = consumer.OpType switch
                {
                    _ when passThrough.Contains(n) => consumer.OpType == "Add" || j == 0,
                    "Conv" => j == 0 && info[v].Block == 1 && OnnxAttributes.Int(consumer, "group", 1) == 1
                              && state.IsPrivateFloat(consumer.Input[1]) && state.Initializers[consumer.Input[1]].Dims[1] == info[v].Channels,
                    "Gemm" => j == 0 && OnnxAttributes.Int(consumer, "transA", 0) == 0 && consumer.Input.Count >= 2
                              && state.IsPrivateFloat(consumer.Input[1]) && state.Initializers[consumer.Input[1]].Dims.Count == 2
                              && state.Initializers[consumer.Input[1]].Dims[OnnxAttributes.Int(consumer, "transB", 0) != 0 ? 1 : 0]
                                 == (long)info[v].Channels * info[v].Block,
                    _ => false,
                };
                if (!ok)
                    return false;
            }
        }
        return true;
    }

    private static bool CanDropConvOutputs(NodeProto conv, PassState state, int channels) =>
        OnnxAttributes.Int(conv, "group", 1) == 1
        && state.IsPrivateFloat(conv.Input[1])
        && state.Initializers[conv.Input[1]].Dims[0] == channels
        && (conv.Input.Count < 3 || conv.Input[2].Length == 0 || state.IsPrivateFloat(conv.Input[2]));

    private static void Apply(List<string> members, HashSet<int> drop, PassState state, Dictionary<string, ChannelInfo> info,
        Dictionary<string, int> producers, Dictionary<string, List<(int Node, int Input)>> consumers, HashSet<int> passThrough,
        SortedDictionary<int, LayerTracker> trackers)
    {
        var graph = state.Graph;
        foreach (var v in members)
        {
            var p = producers[v];
            var producer = graph.Node[p];
            if (producer.OpType == "Conv")
            {
                Track(p, producer, state, trackers).RemoveOutputs(drop);
                state.Slice(producer.Input[1], 0, drop);
                if (producer.Input.Count > 2 && producer.Input[2].Length > 0)
                    state.Slice(producer.Input[2], 0, drop);
            }
            else if (producer.OpType == "BatchNormalization")
            {
                foreach (var param in producer.Input.Skip(1))
                    state.Slice(param, 0, drop);
            }
            var c = info[v];
            foreach (var (n, _) in consumers.GetValueOrDefault(v) ?? [])
            {
                if (passThrough.Contains(n))
                    continue;
                var consumer = graph.Node[n];
                var tracker = Track(n, consumer, state, trackers);
                tracker.InAfter = (tracker.InAfter < 0 ? InFeatures(consumer, state) : tracker.InAfter) - ((long)drop.Count * c.Block);
                if (consumer.OpType == "Conv")
                {
                    state.Slice(consumer.Input[1], 1, drop);
                }
                else
                {
                    var axis = OnnxAttributes.Int(consumer, "transB", 0) != 0 ? 1 : 0;
                    state.Slice(consumer.Input[1], axis, drop, c.Block);
                }
            }
            foreach (var vi in graph.ValueInfo.Where(x => x.Name == v))
                SetChannelDim(vi, (long)(c.Channels - drop.Count) * c.Block);
        }
    }

    private static LayerTracker Track(int index, NodeProto node, PassState state, SortedDictionary<int, LayerTracker> trackers)
    {
        if (!trackers.TryGetValue(index, out var t))
        {
            var dims = state.Get(node.Input[1]).Dims;
            var transposed = node.OpType == "Gemm" && OnnxAttributes.Int(node, "transB", 0) == 0;
            var (outDim, inDim) = transposed ? (dims[1], dims[0]) : (dims[0], dims[1]);
            trackers[index] = t = new LayerTracker(OnnxProfile.NodeName(node, index), node.OpType, node.Input[1], outDim, inDim);
        }
        return t;
    }

    private static long InFeatures(NodeProto node, PassState state)
    {
        var dims = state.Get(node.Input[1]).Dims;
        return node.OpType == "Gemm" && OnnxAttributes.Int(node, "transB", 0) == 0 ? dims[0] : dims[1];
    }

    private static void SetChannelDim(ValueInfoProto value, long width)
    {
        if (value.Type?.TensorType?.Shape is { } shape && shape.Dim.Count >= 2)
            shape.Dim[1].DimValue = width;
    }

    private static void SetDims(ValueInfoProto value, long[] dims)
    {
        if (value.Type?.TensorType?.Shape is not { } shape)
            return;
        shape.Dim.Clear();
        foreach (var d in dims)
            shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
    }
}

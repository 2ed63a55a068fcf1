using Compress.Engine.Diagnostics;
using Compress.Engine.Export;
using static TorchSharp.torch;

namespace Compress.Engine.Models.Graph;

/// <summary>
/// One operation of a <see cref="ModelGraph"/>, and the op table's entry for its kind: each node kind declares, in its
/// own file, how it runs in TorchSharp (<see cref="Forward"/> and, for kinds with weights, <see cref="CreateModule"/>),
/// its shape and multiply-accumulate rule (<see cref="Infer"/>), its ONNX lowering (<see cref="Lower"/>) and how it
/// couples channels for channel pruning (<see cref="Couple"/>). The executor (<see cref="ClassifierModel"/>), the
/// profiler, the exporter and the channel dependency analysis only loop over nodes and call these, so adding an op is
/// one new node kind plus its tests. Every node writes exactly one value; value names are unique in a graph.
/// </summary>
/// <param name="Name">Unique node name (for nodes with state, the module's state-dict prefix).</param>
/// <param name="Inputs">Names of the values the node reads, in operator order.</param>
/// <param name="Output">Name of the value the node writes.</param>
public abstract record GraphNode(string Name, IReadOnlyList<string> Inputs, string Output)
{
    /// <summary>The kind as users see it in profiles and messages: the type name without <c>Node</c>.</summary>
    public string Kind
    {
        get
        {
            string name = GetType().Name;
            return name.EndsWith("Node", StringComparison.Ordinal) ? name[..^"Node".Length] : name;
        }
    }

    /// <summary>The state-dict prefix of the node's weights, or null for a node without state.</summary>
    public virtual string? StatePrefix => null;

    /// <summary>
    /// The TorchSharp module holding this node's weights (shapes from <paramref name="stateShapes"/>, keyed by
    /// state-dict key), or null for a node without state. Modules are TorchSharp's own (<c>Conv2d</c>,
    /// <c>BatchNorm2d</c>, <c>Linear</c>), so parameter names and initialisation are PyTorch's.
    /// </summary>
    internal virtual nn.Module? CreateModule(IReadOnlyDictionary<string, long[]> stateShapes) => null;

    /// <summary>
    /// Tensors the node holds itself, not through a module (<see cref="BinaryNode"/>'s constant operand): registered on
    /// the module tree under their keys, and handed to <see cref="Forward"/> through the module that holds them.
    /// </summary>
    internal virtual IReadOnlyList<OwnedTensor> OwnedTensors => [];

    /// <summary>
    /// Runs the node on a batch: <paramref name="inputs"/> in the order of <see cref="Inputs"/>; <paramref name="module"/>
    /// is what <see cref="CreateModule"/> made (null for nodes without state). Training or evaluation behaviour comes from
    /// the module's mode.
    /// </summary>
    internal abstract Tensor Forward(IReadOnlyList<Tensor> inputs, nn.Module? module);

    /// <summary>
    /// The output shape for one image (no batch dimension), and the node's multiply-accumulates, parameters and
    /// non-parameter state elements, under the one MAC convention of <see cref="Benchmark.ModelProfiler"/>.
    /// </summary>
    /// <exception cref="CompressException">CMP0105/CMP0106 when the node's state or inputs do not fit.</exception>
    internal abstract NodeCost Infer(ShapeContext context);

    /// <summary>Writes the node's ONNX nodes and initializers. Kinds without a lowering give CMP0501.</summary>
    internal virtual void Lower(GraphWriter writer) =>
        throw writer.Unsupported(this, $"it is a {GetType().Name}, which the ONNX exporter does not support");

    /// <summary>
    /// Records how the node moves channels for channel pruning: which channel atoms its output carries on which axis,
    /// which atoms it ties together, which of its state tensors' dimensions are indexed by channels. The default, for a
    /// kind without a rule, keeps every channel it reads and writes (their groups are excluded, with the reason).
    /// </summary>
    internal virtual void Couple(CouplingContext context)
    {
        var inputs = Inputs.Select(context.TryRead).ToArray();
        context.Write(Output, context.Opaque(Output, 0, $"'{Name}' is a {Kind}, which channel pruning does not follow", inputs));
    }

    /// <summary>
    /// This node in the channel-pruned graph: kinds with channel counts of their own (a slice's bounds, a reshape's
    /// target) recompute them from what <paramref name="context"/> says is kept; the rest come back unchanged (their
    /// sizes follow the state tensors).
    /// </summary>
    internal virtual GraphNode Resize(ResizeContext context) => this;
}

using Compress.Engine.Diagnostics;
using Compress.Engine.Models.Graph;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Compress.Engine.Models;

/// <summary>
/// An image classifier mapping a batch <c>[N, C, H, W]</c> to logits <c>[N, classes]</c>, executed from its
/// <see cref="ModelGraph"/>: each node with state gets a TorchSharp module (registered under its dotted state-dict
/// prefix, in graph order, so <c>named_parameters()</c> and <see cref="OrderedStateDict"/> list keys exactly as
/// PyTorch's <c>model.named_parameters()</c> / <c>model.state_dict()</c> do for the same architecture), and
/// <c>forward</c> runs the nodes in order. The same graph drives the exporter, the profiler and channel pruning, so
/// there is no second description of the network to drift apart.
/// </summary>
public sealed class ClassifierModel : nn.Module<Tensor, Tensor>
{
    private readonly ModelGraph _graph;
    private readonly Step[] _steps;
    private readonly int _outputSlot;
    private readonly int _slotCount;

    /// <summary>
    /// Creates the modules of <paramref name="graph"/> (shapes from <see cref="ModelGraph.StateShapes"/>) in graph order,
    /// drawing initial weights from torch's global generator, then applies <paramref name="initialization"/>.
    /// </summary>
    /// <exception cref="ArgumentException">The graph reads a value no earlier node writes, writes a value twice, lacks
    /// state shapes for a node with state, or uses one module prefix for two nodes.</exception>
    internal ClassifierModel(ModelOptions options, InputShape inputShape, ModelGraph graph,
        ModelInitialization initialization = ModelInitialization.TorchDefault) : base(options.Architecture)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(inputShape);
        ArgumentNullException.ThrowIfNull(graph);
        Options = options;
        InputShape = inputShape;
        _graph = graph;

        var slots = new Dictionary<string, int>(StringComparer.Ordinal) { [graph.Input] = 0 };
        var lastRead = new List<int> { -1 };
        var containers = new Dictionary<string, ModuleContainer>(StringComparer.Ordinal);
        var steps = new List<(GraphNode Node, nn.Module? Module, int[] Inputs, int Output)>();
        foreach (var node in graph.Nodes)
        {
            var inputs = new int[node.Inputs.Count];
            for (int i = 0; i < inputs.Length; i++)
            {
                if (!slots.TryGetValue(node.Inputs[i], out inputs[i]))
                    throw new ArgumentException($"Graph node '{node.Name}' reads '{node.Inputs[i]}', which no earlier node writes.", nameof(graph));
                lastRead[inputs[i]] = steps.Count;
            }
            if (slots.ContainsKey(node.Output))
                throw new ArgumentException($"Graph node '{node.Name}' writes '{node.Output}', which is already written.", nameof(graph));
            slots[node.Output] = slots.Count;
            lastRead.Add(-1);
            nn.Module? module = null;
            if (node.StatePrefix is { } prefix)
            {
                module = node.CreateModule(graph.StateShapes);
                if (module is not null) Register(prefix, module, containers);
            }
            foreach (var owned in node.OwnedTensors)
            {
                if (!graph.StateShapes.TryGetValue(owned.Key, out var shape))
                    throw new ArgumentException($"Graph node '{node.Name}' owns '{owned.Key}', which has no state shape.", nameof(graph));
                module = RegisterTensor(owned, shape, containers);
            }
            steps.Add((node, module, inputs, slots[node.Output]));
        }
        if (!slots.TryGetValue(graph.Output, out _outputSlot))
            throw new ArgumentException($"No node writes the graph output '{graph.Output}'.", nameof(graph));
        _slotCount = slots.Count;

        // A value is released right after its last reader, except the network input (the caller's) and the output.
        _steps = steps.Select((s, index) => new Step(s.Node, s.Module, s.Inputs, s.Output,
            s.Inputs.Distinct().Where(slot => slot != 0 && slot != _outputSlot && lastRead[slot] == index).ToArray())).ToArray();

        if (initialization == ModelInitialization.KaimingNormalFanOut)
        {
            foreach (var (_, module) in named_modules())
            {
                if (module is Conv2d conv)
                    nn.init.kaiming_normal_(conv.weight, mode: nn.init.FanInOut.FanOut, nonlinearity: nn.init.NonlinearityType.ReLU);
            }
        }
    }

    /// <summary>The ONNX file the model was imported from (its names and opset, kept by the export), or null for a
    /// built-in architecture.</summary>
    public Onnx.OnnxOrigin? Origin { get; init; }

    /// <summary>For an imported model, the initializer each state tensor was read from, by state key.</summary>
    public IReadOnlyDictionary<string, string>? StateSources { get; init; }

    /// <summary>The batch size an imported file fixes, or null (symbolic batch, or a built-in architecture).</summary>
    public int? FixedBatch { get; init; }

    /// <summary>The (validated, canonical) options the model was built with.</summary>
    public ModelOptions Options { get; }

    /// <summary>The model's natural input: LeNet-5 1x28x28, CIFAR models 3x32x32, ImageNet ResNet-18 3x224x224.</summary>
    public InputShape InputShape { get; }

    /// <summary>
    /// The model's computation as a <see cref="ModelGraph"/> whose stateful nodes name the state-dict prefixes of this
    /// model's modules. It is what <c>forward</c> runs; the ONNX exporter, profiler and channel pruning read it.
    /// </summary>
    public ModelGraph DescribeGraph() => _graph;

    /// <summary>
    /// The state dict (parameters and persistent buffers) in PyTorch's order: for each module in pre-order, its own
    /// parameters, then its own buffers, then its children. TorchSharp's <c>state_dict()</c> lists all parameters
    /// before all buffers instead, which is why this exists: checkpoints we write then list keys as PyTorch would.
    /// The tensors are the model's own (not copies); do not dispose them.
    /// </summary>
    public IReadOnlyList<(string Key, Tensor Value)> OrderedStateDict()
    {
        var result = new List<(string, Tensor)>();
        Collect(this, "", result);
        return result;
    }

    /// <summary>
    /// A new model with the same graph whose modules take the shapes of <paramref name="stateDict"/>'s tensors where
    /// they differ from this model's (a channel-pruned checkpoint of it), or null when every shape already agrees. The
    /// new shapes must go through the graph's shape rules. Weights are not copied.
    /// </summary>
    /// <exception cref="CompressException">CMP0106 naming the checkpoint when its shapes do not fit the graph.</exception>
    internal ClassifierModel? WithStateShapesOf(IReadOnlyDictionary<string, TensorData> stateDict, string path)
    {
        var shapes = new InsertionOrderedMap<long[]>();
        bool changed = false;
        foreach (var (key, current) in _graph.StateShapes)
        {
            if (stateDict.TryGetValue(key, out var data) && !data.Shape.AsSpan().SequenceEqual(current) && data.Shape.Length == current.Length)
            {
                shapes.Add(key, data.Shape);
                changed = true;
            }
            else
            {
                shapes.Add(key, current);
            }
        }
        if (!changed) return null;
        var graph = _graph with { StateShapes = shapes };
        try
        {
            Benchmark.ModelProfiler.Profile(graph, shapes, InputShape);
        }
        catch (CompressException e)
        {
            throw new CompressException(DiagnosticCode.ShapeMismatch,
                $"Weights file '{path}' does not fit {Options.Architecture}: {e.Message}", path,
                "Use a checkpoint of this model (a channel-pruned one must shrink each layer and its consumers together).", inner: e);
        }
        return new ClassifierModel(Options, InputShape, graph) { Origin = Origin, StateSources = StateSources, FixedBatch = FixedBatch };
    }

    /// <summary>A new model with the same graph and <paramref name="stateShapes"/> (weights not copied; the global
    /// generator is left as it was).</summary>
    internal ClassifierModel WithStateShapes(IReadOnlyDictionary<string, long[]> stateShapes) =>
        WithGraph(_graph with { StateShapes = stateShapes });

    /// <summary>A new model running <paramref name="graph"/> (modules made from its state shapes, weights not copied;
    /// the global generator is left as it was), with this model's origin and, unless given, options.</summary>
    internal ClassifierModel WithGraph(ModelGraph graph, ModelOptions? options = null)
    {
        using var saved = TorchSharp.torch.random.get_rng_state();
        try
        {
            return new ClassifierModel(options ?? Options, InputShape, graph)
            {
                Origin = Origin, StateSources = StateSources, FixedBatch = FixedBatch,
            };
        }
        finally
        {
            TorchSharp.torch.random.set_rng_state(saved);
        }
    }

    /// <summary>Total number of scalar parameters (weights and biases; buffers excluded).</summary>
    public long ParameterCount() => parameters().Sum(p => p.numel());

    /// <inheritdoc/>
    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var values = new Tensor?[_slotCount];
        values[0] = input;
        var arguments = new List<Tensor>(4);
        foreach (var step in _steps)
        {
            arguments.Clear();
            foreach (int slot in step.Inputs) arguments.Add(values[slot]!);
            values[step.Output] = step.Node.Forward(arguments, step.Module);
            foreach (int slot in step.Release)
            {
                values[slot]!.Dispose();
                values[slot] = null;
            }
        }
        return values[_outputSlot]!.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Runs the model on <paramref name="input"/> and returns the values named in <paramref name="names"/> (copies,
    /// owned by the caller), for analyses that need intermediate activations. Values no node writes are absent.
    /// </summary>
    internal Dictionary<string, Tensor> Trace(Tensor input, IReadOnlySet<string> names)
    {
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        using var scope = NewDisposeScope();
        var values = new Tensor?[_slotCount];
        values[0] = input;
        if (names.Contains(_graph.Input)) result[_graph.Input] = input.detach().clone().DetachFromDisposeScope();
        var arguments = new List<Tensor>(4);
        foreach (var step in _steps)
        {
            arguments.Clear();
            foreach (int slot in step.Inputs) arguments.Add(values[slot]!);
            values[step.Output] = step.Node.Forward(arguments, step.Module);
            if (names.Contains(step.Node.Output))
                result[step.Node.Output] = values[step.Output]!.detach().clone().DetachFromDisposeScope();
            foreach (int slot in step.Release)
            {
                values[slot]!.Dispose();
                values[slot] = null;
            }
        }
        return result;
    }

    /// <summary>The tensor at <paramref name="key"/> held by <paramref name="holder"/> (the module handed to a node that
    /// owns tensors, <see cref="GraphNode.OwnedTensors"/>): looked up on each call, as moving the model to another device
    /// replaces the tensors.</summary>
    internal static Tensor OwnedTensor(nn.Module holder, string key)
    {
        string name = key[(key.LastIndexOf('.') + 1)..];
        return (Tensor?)holder.get_parameter(name) ?? holder.get_buffer(name)
            ?? throw new InvalidOperationException($"The model holds no tensor '{key}'.");
    }

    private nn.Module RegisterTensor(OwnedTensor owned, long[] shape, Dictionary<string, ModuleContainer> containers)
    {
        int dot = owned.Key.LastIndexOf('.');
        nn.Module holder = this;
        if (dot > 0)
        {
            var parent = Container(owned.Key[..dot], containers);
            holder = parent;
        }
        string name = owned.Key[(dot + 1)..];
        using var initial = zeros(shape);
        if (holder is ModuleContainer container) container.AddTensor(name, initial, owned.Trainable);
        else if (owned.Trainable) register_parameter(name, new TorchSharp.Modules.Parameter(initial.clone(), true));
        else register_buffer(name, initial.clone());
        return holder;
    }

    /// <summary>The container at dotted <paramref name="path"/>, created (with its parents) if needed.</summary>
    private ModuleContainer Container(string path, Dictionary<string, ModuleContainer> containers)
    {
        if (containers.TryGetValue(path, out var found)) return found;
        string[] parts = path.Split('.');
        if (parts.Any(p => p.Length == 0)) throw new ArgumentException($"State key prefix '{path}' has an empty part.", nameof(path));
        ModuleContainer? parent = parts.Length > 1 ? Container(string.Join('.', parts[..^1]), containers) : null;
        string leaf = parts[^1];
        if (parent is null ? named_children().Any(c => c.name == leaf) : parent.Child(leaf) is not null)
            throw new ArgumentException($"'{path}' is a layer with state of its own and cannot also hold other modules.", nameof(path));
        var container = new ModuleContainer(leaf);
        if (parent is null) register_module(leaf, container);
        else parent.Add(leaf, container);
        containers[path] = container;
        return container;
    }

    private void Register(string prefix, nn.Module module, Dictionary<string, ModuleContainer> containers)
    {
        int dot = prefix.LastIndexOf('.');
        ModuleContainer? parent = dot > 0 ? Container(prefix[..dot], containers) : null;
        string leaf = prefix[(dot + 1)..];
        if (leaf.Length == 0) throw new ArgumentException($"Module prefix '{prefix}' has an empty part.", nameof(prefix));
        if (containers.ContainsKey(prefix) || (parent is null ? named_children().Any(c => c.name == leaf) : parent.Child(leaf) is not null))
            throw new ArgumentException($"Two graph nodes use the module prefix '{prefix}'.", nameof(prefix));
        if (parent is null) register_module(leaf, module);
        else parent.Add(leaf, module);
    }

    private static void Collect(nn.Module module, string prefix, List<(string, Tensor)> into)
    {
        foreach (var (name, parameter) in module.named_parameters(recurse: false)) into.Add((prefix + name, parameter));
        foreach (var (name, buffer) in module.named_buffers(recurse: false, include_nonpersistent: false))
            into.Add((prefix + name, buffer));
        foreach (var (name, child) in module.named_children()) Collect(child, prefix + name + ".", into);
    }

    /// <summary>One node to run: its module, input slots, output slot and the slots it is the last reader of.</summary>
    private sealed record Step(GraphNode Node, nn.Module? Module, int[] Inputs, int Output, int[] Release);
}

using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Compress.Engine.Diagnostics;
using Compress.Engine.Models.Graph;
using Google.Protobuf;
using Onnx;

namespace Compress.Engine.Models.Onnx;

/// <summary>
/// One import in progress: the constants found so far (float weights, and the integer shape computations a
/// dynamic-batch export emits, with the batch kept symbolic), the graph nodes written, the per-image shape of every
/// value, and the state tensors with their keys. The op handlers (<c>OnnxImport.Ops.cs</c>) read ONNX nodes through
/// it and write graph nodes to it.
/// </summary>
internal sealed partial class OnnxImport
{
    /// <summary>Stands for the symbolic batch size inside folded integer shape computations.</summary>
    internal const long Batch = long.MinValue;

    private readonly string _path;
    private readonly Dictionary<string, FloatConstant> _floats = new(StringComparer.Ordinal);
    private readonly Dictionary<string, IntConstant> _ints = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _alias = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long[]> _shapes = new(StringComparer.Ordinal);
    private readonly Dictionary<string, GraphNode> _producers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _readers = new(StringComparer.Ordinal);
    private readonly List<GraphNode> _nodes = [];
    private readonly InsertionOrderedMap<long[]> _stateShapes = new();
    private readonly Dictionary<string, ImportedTensor> _state = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _sources = new(StringComparer.Ordinal);
    private readonly HashSet<string> _leaves = new(StringComparer.Ordinal);
    private readonly HashSet<string> _containers = new(StringComparer.Ordinal);
    private readonly HashSet<string> _nodeNames = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _histogram;
    private readonly ShapeContext _shapeContext;

    internal OnnxImport(string path, int opset, Dictionary<string, int> histogram)
    {
        _path = path;
        Opset = opset;
        _histogram = histogram;
        _shapeContext = new ShapeContext(_stateShapes, _shapes);
    }

    /// <summary>The file's default-domain opset.</summary>
    public int Opset { get; }

    /// <summary>A float32 constant: an initializer or Constant output, possibly transformed (transposed, reshaped). An
    /// initializer's values stay in the parsed file's raw bytes until something needs them as an array.</summary>
    internal sealed record FloatConstant
    {
        private float[]? _data;

        public FloatConstant(long[] dims, float[] data, string source)
        {
            Dims = dims;
            _data = data;
            Source = source;
        }

        private FloatConstant(long[] dims, ByteString raw, string source)
        {
            Dims = dims;
            Raw = raw;
            Source = source;
        }

        /// <summary>An initializer stored as raw bytes (read lazily).</summary>
        public static FloatConstant FromRaw(long[] dims, ByteString raw, string source) => new(dims, raw, source);

        public long[] Dims { get; init; }

        public string Source { get; init; }

        /// <summary>The file's raw bytes, while the values are the file's (null once computed).</summary>
        public ByteString? Raw { get; private init; }

        public float[] Data
        {
            get => _data ??= MemoryMarshal.Cast<byte, float>(Raw!.Span).ToArray();
            init
            {
                _data = value;
                Raw = null;
            }
        }

        public long Count => Dims.Aggregate(1L, (a, b) => a * b);

        /// <summary>The state tensor for <paramref name="shape"/>: a view of the file's bytes when untouched.</summary>
        public ImportedTensor ToState(long[] shape) => _data is null && Raw is not null ? new ImportedTensor(shape, Raw) : new ImportedTensor(shape, Data);
    }

    /// <summary>An integer constant (shapes, axes, indices); <see cref="Batch"/> stands for the symbolic batch.</summary>
    internal sealed record IntConstant(long[] Dims, long[] Data);

    /// <summary>A file whose batch is fixed at <paramref name="batch"/>: that size is read as the batch in reshapes.</summary>
    internal void FixBatch(long batch) => _fixedBatch = batch;

    /// <summary>Converts <paramref name="graph"/>.</summary>
    internal ImportedOnnxModel Convert(GraphProto graph, string inputName, InputShape input, string outputName, OnnxOrigin origin)
    {
        foreach (var node in graph.Node)
            foreach (string name in node.Input) _firstReader.TryAdd(name, node);
        foreach (var tensor in graph.Initializer) AddInitializer(tensor);
        foreach (var node in graph.Node)
            foreach (string name in node.Input.Where(n => n.Length > 0)) _readers[name] = _readers.GetValueOrDefault(name) + 1;
        _readers[outputName] = _readers.GetValueOrDefault(outputName) + 1;

        _shapes[inputName] = [input.Channels, input.Height, input.Width];
        int index = 0;
        foreach (var node in graph.Node)
        {
            string op = node.OpType;
            if (node.Domain.Length > 0 && node.Domain != "ai.onnx")
                throw Unsupported(node, $"it is in the domain '{node.Domain}'; only the default ONNX domain is supported");
            if (op is "If" or "Loop" or "Scan")
                throw new CompressException(DiagnosticCode.OnnxControlFlow,
                    $"ONNX model '{_path}' uses control flow: node '{NodeLabel(node)}' is a {op}.", _path,
                    "Export a graph without data-dependent control flow (trace the model in eval mode with a fixed input size).");
            CheckArity(node);
            try
            {
                if (FoldConstant(node)) continue;
                if (!Ops.TryGetValue(op, out var handler)) throw Unsupported(node, "the importer does not support this op");
                handler(this, node, index++);
            }
            catch (CompressException e) when (e.Code is DiagnosticCode.ShapeMismatch or DiagnosticCode.MissingKeys)
            {
                throw new CompressException(e.Code, $"ONNX model '{_path}', node '{NodeLabel(node)}' ({op}): {e.Message}", _path, e.Hint);
            }
        }

        string output = Resolve(outputName);
        if (_floats.ContainsKey(outputName) || _ints.ContainsKey(outputName) || !_shapes.TryGetValue(output, out var logits))
            throw Invalid($"its output '{outputName}' does not depend on the input");
        if (logits.Length != 1)
            throw Invalid($"its output '{outputName}' has the per-image shape {ShapeText.Format(logits)}, not [classes]");
        if (logits[0] < 2) throw Invalid($"its output '{outputName}' has {logits[0]} class(es); a classifier needs at least 2");

        var (nodes, stateShapes) = Prune(output);
        foreach (var (key, shape) in stateShapes)
        {
            if (!_state.TryGetValue(key, out var tensor)) continue;
            if (tensor.Length != ShapeContext.Product(shape))
                throw Invalid($"the tensor '{_sources[key]}' has {tensor.Length} values for dims {ShapeText.Format(shape)}");
            var values = tensor.Values;
            int bad = -1;
            for (int i = 0; i < values.Length && bad < 0; i++) if (!float.IsFinite(values[i])) bad = i;
            if (bad >= 0)
                throw new CompressException(DiagnosticCode.NonFiniteWeights,
                    $"ONNX model '{_path}': the tensor '{_sources[key]}' has {values[bad].ToString(CultureInfo.InvariantCulture)} at element {bad.ToString(CultureInfo.InvariantCulture)}.",
                    _path, "Export the model from a run that did not diverge (every weight must be a finite number).");
        }
        var graphModel = new ModelGraph(inputName, output, nodes) { StateShapes = stateShapes };
        var state = stateShapes.Keys.Where(_state.ContainsKey).ToDictionary(k => k, k => _state[k], StringComparer.Ordinal);
        var sources = stateShapes.Keys.Where(_sources.ContainsKey).ToDictionary(k => k, k => _sources[k], StringComparer.Ordinal);
        return new ImportedOnnxModel(graphModel, input, checked((int)logits[0]), state, sources,
            origin, _histogram)
        {
            FixedBatch = _fixedBatch == Batch ? null : (int)_fixedBatch,
            ValueShapes = ValueShapes(graph),
        };
    }

    /// <summary>Shapes of every ONNX value read or written by a node that the import tracked (aliases included).</summary>
    private Dictionary<string, long[]> ValueShapes(GraphProto graph)
    {
        var result = new Dictionary<string, long[]>(_shapes, StringComparer.Ordinal);
        foreach (string name in graph.Node.SelectMany(n => n.Input.Concat(n.Output)).Where(n => n.Length > 0))
            if (!result.ContainsKey(name) && ShapeOf(name) is { } shape) result[name] = shape;
        return result;
    }

    /// <summary>Drops nodes nothing reads on the way to <paramref name="output"/> (and their state).</summary>
    private (List<GraphNode> Nodes, InsertionOrderedMap<long[]> StateShapes) Prune(string output)
    {
        var live = new HashSet<string>(StringComparer.Ordinal) { output };
        var kept = new List<GraphNode>();
        for (int i = _nodes.Count - 1; i >= 0; i--)
        {
            var node = _nodes[i];
            if (!live.Contains(node.Output)) continue;
            kept.Add(node);
            foreach (string value in node.Inputs) live.Add(value);
        }
        kept.Reverse();
        var keys = new HashSet<string>(StringComparer.Ordinal);
        foreach (var node in kept)
        {
            if (node.StatePrefix is { } prefix)
                foreach (string key in _stateShapes.Keys.Where(k => k == prefix || k.StartsWith(prefix + ".", StringComparison.Ordinal)))
                    keys.Add(key);
        }
        var shapes = new InsertionOrderedMap<long[]>();
        foreach (var (key, shape) in _stateShapes)
            if (keys.Contains(key)) shapes.Add(key, shape);
        return (kept, shapes);
    }

    // ---- values and constants -----------------------------------------------------------------------------------

    /// <summary>The graph value an ONNX value name stands for (after dropped Identity and Dropout nodes).</summary>
    internal string Resolve(string name)
    {
        while (_alias.TryGetValue(name, out var target)) name = target;
        return name;
    }

    /// <summary>Makes ONNX value <paramref name="name"/> stand for graph value <paramref name="target"/>.</summary>
    internal void Alias(string name, string target) => _alias[name] = Resolve(target);

    internal bool IsFloatConstant(string name) => _floats.ContainsKey(Resolve(name));

    internal bool IsIntConstant(string name) => _ints.ContainsKey(Resolve(name));

    internal bool IsConstant(string name) => IsFloatConstant(name) || IsIntConstant(name);

    internal FloatConstant? FloatConst(string name) => _floats.GetValueOrDefault(Resolve(name));

    internal IntConstant? IntConst(string name) => _ints.GetValueOrDefault(Resolve(name));

    internal void SetFloat(string name, FloatConstant value) => _floats[name] = value;

    internal void SetInt(string name, IntConstant value) => _ints[name] = value;

    /// <summary>The per-image shape of the (non-constant) value <paramref name="name"/>.</summary>
    internal long[]? ShapeOf(string name) => _shapes.GetValueOrDefault(Resolve(name));

    /// <summary>How many ONNX nodes read <paramref name="name"/> (plus one for the graph output).</summary>
    internal int Readers(string name) => _readers.GetValueOrDefault(name);

    /// <summary>The graph node that wrote <paramref name="value"/>, if any.</summary>
    internal GraphNode? Producer(string value) => _producers.GetValueOrDefault(Resolve(value));

    /// <summary>Appends a graph node and computes its output's per-image shape.</summary>
    internal void Emit(GraphNode node)
    {
        _nodes.Add(node);
        _producers[node.Output] = node;
        _shapes[node.Output] = node.Infer(_shapeContext).Output;
    }

    /// <summary>Replaces a node already emitted (a bias-less linear layer that gains the following Add's bias).</summary>
    internal void Replace(GraphNode old, GraphNode replacement)
    {
        int i = _nodes.IndexOf(old);
        _nodes[i] = replacement;
        _producers.Remove(old.Output);
        _producers[replacement.Output] = replacement;
        _shapes[replacement.Output] = replacement.Infer(_shapeContext).Output;
    }

    /// <summary>A node name that is unique in the graph, from the ONNX node's name or its op type.</summary>
    internal string NodeName(NodeProto node, int index)
    {
        string name = node.Name.Length > 0 ? node.Name : node.OpType + "_" + index.ToString(CultureInfo.InvariantCulture);
        string unique = name;
        for (int i = 1; !_nodeNames.Add(unique); i++) unique = name + "_" + i.ToString(CultureInfo.InvariantCulture);
        return unique;
    }

    // ---- state ----------------------------------------------------------------------------------------------------

    /// <summary>
    /// A module prefix for a node's state: the initializer's name without <paramref name="suffix"/> when it is a PyTorch
    /// state-dict key (<c>layer1.0.conv1.weight</c>), so the keys are the user's; otherwise one made from the node's
    /// name. Prefixes never nest inside another module's (the module tree must be a tree).
    /// </summary>
    internal string ClaimPrefix(string? initializer, string suffix, string nodeName)
    {
        if (initializer is not null && initializer.EndsWith(suffix, StringComparison.Ordinal))
        {
            string candidate = initializer[..^suffix.Length];
            if (IsStateKey(candidate) && TryClaim(candidate)) return candidate;
        }
        string fallback = Sanitize(nodeName);
        string unique = fallback;
        for (int i = 1; !TryClaim(unique); i++) unique = fallback + "_" + i.ToString(CultureInfo.InvariantCulture);
        return unique;
    }

    /// <summary>A key for a tensor a node owns (<see cref="OwnedTensor"/>), preferably the initializer's own name.</summary>
    internal string ClaimKey(string initializer, string nodeName)
    {
        if (IsStateKey(initializer) && initializer.Contains('.', StringComparison.Ordinal) && TryClaim(initializer)) return initializer;
        string fallback = Sanitize(nodeName) + "_constant";
        string unique = fallback;
        for (int i = 1; !TryClaim(unique); i++) unique = fallback + "_" + i.ToString(CultureInfo.InvariantCulture);
        return unique;
    }

    /// <summary>Records a state tensor's shape, value and where it came from.</summary>
    internal void AddState(string key, long[] shape, float[] values, string source)
    {
        _stateShapes.Add(key, shape);
        _state[key] = new ImportedTensor(shape, values);
        _sources[key] = source;
    }

    /// <summary>Records a state tensor read from <paramref name="constant"/> (its file bytes, when untouched).</summary>
    internal void AddState(string key, long[] shape, FloatConstant constant)
    {
        _stateShapes.Add(key, shape);
        _state[key] = constant.ToState(shape);
        _sources[key] = constant.Source;
    }

    /// <summary>Records a state tensor that has a shape but no imported value (BatchNorm's batch counter).</summary>
    internal void AddStateShape(string key, long[] shape) => _stateShapes.Add(key, shape);

    private bool TryClaim(string prefix)
    {
        string[] parts = prefix.Split('.');
        if (parts.Any(p => p.Length == 0)) return false;
        if (_leaves.Contains(prefix) || _containers.Contains(prefix)) return false;
        for (int i = 1; i < parts.Length; i++)
            if (_leaves.Contains(string.Join('.', parts[..i]))) return false;
        _leaves.Add(prefix);
        for (int i = 1; i < parts.Length; i++) _containers.Add(string.Join('.', parts[..i]));
        return true;
    }

    private static bool IsStateKey(string name) =>
        name.Length > 0 && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '.') && !name.StartsWith('.') && !name.EndsWith('.');

    private static string Sanitize(string name)
    {
        var builder = new StringBuilder(name.Length);
        foreach (char c in name) builder.Append(char.IsAsciiLetterOrDigit(c) ? c : '_');
        string result = builder.ToString().Trim('_');
        return result.Length == 0 ? "node" : char.IsAsciiDigit(result[0]) ? "n" + result : result;
    }

    // ---- reading initializers ---------------------------------------------------------------------------------------

    private void AddInitializer(TensorProto tensor)
    {
        if (tensor.DataLocation == TensorProto.Types.DataLocation.External)
            throw new CompressException(DiagnosticCode.OnnxExternalData,
                $"ONNX model '{_path}' keeps the tensor '{tensor.Name}' in an external data file.", _path,
                "Save the model with its weights inside the .onnx file (onnx.save(model, path, save_as_external_data=False)).");
        if (ReadConstant(tensor, tensor.Name) is { } value)
        {
            if (value is FloatConstant f) _floats[tensor.Name] = f;
            else _ints[tensor.Name] = (IntConstant)value;
        }
    }

    /// <summary>The first node that reads each value (for messages about a tensor).</summary>
    private readonly Dictionary<string, NodeProto> _firstReader = new(StringComparer.Ordinal);

    /// <summary>" (read by node 'x' (Op))" for a tensor a node reads, else "".</summary>
    private string ReaderOf(string tensor) =>
        _firstReader.TryGetValue(tensor, out var node) ? $" (read by node '{NodeLabel(node)}' ({node.OpType}))" : "";

    /// <summary>A float32 or integer tensor's value, or null for other element types (refused where used as a weight).</summary>
    internal object? ReadConstant(TensorProto tensor, string source)
    {
        long[] dims = [.. tensor.Dims];
        long count = 1;
        try
        {
            foreach (long d in dims) count = d < 0 ? throw new OverflowException() : checked(count * d);
        }
        catch (OverflowException)
        {
            throw Invalid($"the tensor '{tensor.Name}'{ReaderOf(tensor.Name)} has impossible dims {ShapeText.Format(dims)}");
        }
        switch ((TensorProto.Types.DataType)tensor.DataType)
        {
            case TensorProto.Types.DataType.Float:
            {
                // The values must fill the dims exactly: every later step (transposing, folding, shapes) indexes by them.
                long values = tensor.RawData.Length > 0 ? tensor.RawData.Length / 4 : tensor.FloatData.Count;
                if (values != count || (tensor.RawData.Length % 4) != 0)
                    throw Invalid(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                        $"the tensor '{tensor.Name}'{ReaderOf(tensor.Name)} has {(tensor.RawData.Length > 0 ? tensor.RawData.Length + " bytes" : values + " values")} for dims {ShapeText.Format(dims)} ({count} float32 values)"));
                return tensor.RawData.Length > 0 && BitConverter.IsLittleEndian
                    ? FloatConstant.FromRaw(dims, tensor.RawData, source)
                    : new FloatConstant(dims, [.. tensor.FloatData], source);
            }
            case TensorProto.Types.DataType.Int64:
            {
                long[] data = tensor.RawData.Length > 0
                    ? MemoryMarshal.Cast<byte, long>(tensor.RawData.Span).ToArray()
                    : [.. tensor.Int64Data];
                if (data.LongLength != count)
                    throw Invalid($"the tensor '{tensor.Name}'{ReaderOf(tensor.Name)} has {data.LongLength} values for dims {ShapeText.Format(dims)}");
                return new IntConstant(dims, data);
            }
            case TensorProto.Types.DataType.Int32:
            {
                long[] data = tensor.RawData.Length > 0
                    ? MemoryMarshal.Cast<byte, int>(tensor.RawData.Span).ToArray().Select(v => (long)v).ToArray()
                    : tensor.Int32Data.Select(v => (long)v).ToArray();
                if (data.LongLength != count)
                    throw Invalid($"the tensor '{tensor.Name}'{ReaderOf(tensor.Name)} has {data.LongLength} values for dims {ShapeText.Format(dims)}");
                return new IntConstant(dims, data);
            }
            default:
                _nonFloat[tensor.Name] = ((TensorProto.Types.DataType)tensor.DataType).ToString();
                return null;
        }
    }

    private readonly Dictionary<string, string> _nonFloat = new(StringComparer.Ordinal);

    /// <summary>The float32 constant at input <paramref name="index"/> of <paramref name="node"/>, which must be one.</summary>
    internal FloatConstant Weight(NodeProto node, int index, string role)
    {
        string name = InputName(node, index, role);
        if (FloatConst(name) is { } constant) return constant;
        if (_nonFloat.TryGetValue(Resolve(name), out var type))
            throw new CompressException(DiagnosticCode.OnnxNonFloatWeights,
                $"ONNX model '{_path}': the {role} '{name}' of node '{NodeLabel(node)}' ({node.OpType}) is {type}, not float32.", _path,
                "Export the float32 model (before quantization or half-precision conversion).");
        throw Unsupported(node, $"its {role} '{name}' is computed by the graph, not a constant initializer");
    }

    /// <summary>The optional float32 constant at input <paramref name="index"/>, or null when the input is absent.</summary>
    internal FloatConstant? OptionalWeight(NodeProto node, int index, string role) =>
        node.Input.Count > index && node.Input[index].Length > 0 ? Weight(node, index, role) : null;

    /// <summary>The integer constant at input <paramref name="index"/>, which must be one (a folded shape, axes).</summary>
    internal IntConstant Ints(NodeProto node, int index, string role) =>
        IntConst(InputName(node, index, role)) ?? throw Unsupported(node,
            $"its {role} '{node.Input[index]}' is not a constant (or a shape computation that folds to one)");

    /// <summary>The per-image shape of the value at input <paramref name="index"/>, which must not be a constant.</summary>
    internal long[] InputShape(NodeProto node, int index) =>
        ShapeOf(InputName(node, index, "input")) ?? throw Unsupported(node, $"its input '{node.Input[index]}' is not a value the importer tracks");

    /// <summary>The name at input <paramref name="index"/>; a coded error (the file is invalid) when the node has fewer inputs.</summary>
    internal string InputName(NodeProto node, int index, string role) =>
        index < node.Input.Count
            ? node.Input[index]
            : throw Invalid(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"node '{NodeLabel(node)}' ({node.OpType}) has {node.Input.Count} input(s), so no {role} (input {index})"));

    /// <summary>
    /// The fewest inputs each op the importer reads takes (ONNX's operator specs; inputs an older opset gave as
    /// attributes count as optional). A file with fewer is invalid: refused with its node, not indexed past the end.
    /// </summary>
    private static readonly Dictionary<string, int> MinimumInputs = new(StringComparer.Ordinal)
    {
        ["Conv"] = 2, ["BatchNormalization"] = 5, ["Gemm"] = 2, ["MatMul"] = 2, ["Add"] = 2, ["Sub"] = 2, ["Mul"] = 2,
        ["Div"] = 2, ["Pow"] = 2, ["Reshape"] = 2, ["Gather"] = 2, ["LayerNormalization"] = 2, ["Constant"] = 0,
    };

    /// <summary>A coded error (the file is invalid) when <paramref name="node"/> has fewer inputs than its op takes, or no output.</summary>
    private void CheckArity(NodeProto node)
    {
        int minimum = MinimumInputs.GetValueOrDefault(node.OpType, 1);
        if (node.Input.Count < minimum || node.Output.Count < 1 || node.Output[0].Length == 0)
            throw Invalid(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"node '{NodeLabel(node)}' ({node.OpType}) has {node.Input.Count} input(s) and {node.Output.Count} output(s); {node.OpType} takes at least {minimum} input(s) and one output"));
    }

    // ---- errors -----------------------------------------------------------------------------------------------------

    internal static string NodeLabel(NodeProto node) => node.Name.Length > 0 ? node.Name : "(unnamed)";

    /// <summary>CMP0110 naming the op, the node, its inputs, the model's op histogram and the supported ops.</summary>
    internal CompressException Unsupported(NodeProto node, string why)
    {
        string inputs = string.Join(", ", node.Input.Select(i =>
            i.Length == 0 ? "(none)" :
            IsFloatConstant(i) ? $"{i} (constant {ShapeText.Format(FloatConst(i)!.Dims)})" :
            IsIntConstant(i) ? $"{i} (integer constant)" :
            ShapeOf(i) is { } s ? $"{i} [batch, {string.Join(", ", s)}]" : i));
        string histogram = string.Join(", ", _histogram.OrderByDescending(p => p.Value).ThenBy(p => p.Key, StringComparer.Ordinal)
            .Select(p => p.Key + " x" + p.Value.ToString(CultureInfo.InvariantCulture)));
        return new CompressException(DiagnosticCode.UnsupportedOnnxOp,
            $"ONNX model '{_path}': cannot import node '{NodeLabel(node)}' ({node.OpType}, inputs: {inputs}): {why}. " +
            $"The model's ops: {histogram}.", _path,
            $"Supported ops: {string.Join(", ", SupportedOps)}. Export with ops from this list (PyTorch at opset 13 or 17 works).");
    }

    /// <summary>CMP0504: the file is not a CNN classifier the importer can read.</summary>
    internal CompressException Invalid(string why) =>
        new(DiagnosticCode.InvalidOnnxModel, $"ONNX model '{_path}' cannot be imported: {why}.", _path,
            "Import an image classifier with one float32 input [batch, C, H, W] and one output [batch, classes].");
}

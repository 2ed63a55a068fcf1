using System.Globalization;
using Compress.Engine.Diagnostics;
using Compress.Engine.Models;
using Compress.Engine.Models.Graph;
using Compress.Engine.Reporting;
using Google.Protobuf;
using Onnx;
using static TorchSharp.torch;

namespace Compress.Engine.Export;

/// <summary>
/// Writes a built-in model as an ONNX model (TorchSharp has no exporter), driven by the model's own
/// <see cref="ClassifierModel.DescribeGraph"/> rather than by guessing the wiring from the module tree.
/// </summary>
/// <remarks>
/// <para>The graph has one input <c>input</c> <c>[batch, C, H, W]</c> (float32; <c>batch</c> is a symbolic dimension,
/// C, H and W are the model's <see cref="ClassifierModel.InputShape"/>) and one output <c>logits</c>
/// <c>[batch, classes]</c>. Opset 17, IR version 8. Ops: Conv, BatchNormalization (inference form, only when not
/// folding), Relu, MaxPool, GlobalAveragePool, Add, Flatten, Gemm (transB = 1).</para>
/// <para>Initializers (float32, little-endian raw data) are named after the state-dict entries they come from:
/// <c>layer1.0.conv1.weight</c>, <c>fc.bias</c>, <c>bn1.running_var</c>. When a BatchNorm is folded, its convolution's
/// initializers keep the convolution's names but hold the folded values: <c>&lt;conv&gt;.weight</c> is
/// <c>W * gamma / sqrt(var + eps)</c> per output channel and <c>&lt;conv&gt;.bias</c> (created when the convolution
/// had none) is <c>(b - mean) * gamma / sqrt(var + eps) + beta</c>, both computed in float64 and rounded once to
/// float32; the folded BatchNorm leaves no initializer and its output value is written by the convolution. Node
/// names are the graph's node names and value names its value names (<c>layer1.0.conv1</c>, ...).</para>
/// <para>Output is deterministic: the same weights and options give the same bytes (nodes, initializers and
/// attributes in graph order, metadata sorted by key, no time stamps).</para>
/// </remarks>
public static class OnnxExporter
{
    /// <summary>The ONNX IR version written (8: ONNX 1.10+, accepted by ONNX Runtime 1.31).</summary>
    public const long IrVersion = 8;

    /// <summary>The opset written when neither the options nor an imported model's file name one.</summary>
    public const int DefaultOpset = 17;

    /// <summary>Lowest opset written.</summary>
    public const int MinOpset = 11;

    /// <summary>Highest opset written.</summary>
    public const int MaxOpset = 21;

    /// <summary>The graph input's name.</summary>
    public const string InputName = "input";

    /// <summary>The graph output's name.</summary>
    public const string OutputName = "logits";

    /// <summary>The symbolic batch dimension of the input and output.</summary>
    public const string BatchDimension = "batch";

    /// <summary>The engine version written as <c>producer_version</c> (major.minor.patch of this assembly).</summary>
    public static string ProducerVersion { get; } = FormatVersion(typeof(OnnxExporter).Assembly.GetName().Version);

    /// <summary>Exports <paramref name="model"/>'s current weights (its own mode and device are left as they are).</summary>
    /// <exception cref="CompressException">CMP0501 for a graph node, module or tensor the exporter does not support,
    /// or an unsupported opset.</exception>
    public static ModelProto Export(ClassifierModel model, OnnxExportOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        return ExportGraph(model, model.DescribeGraph(), options ?? new OnnxExportOptions());
    }

    /// <summary>Serializes <paramref name="model"/> and writes it to <paramref name="path"/> through a temporary file
    /// in the same folder (<see cref="AtomicFile"/>): an existing file is replaced only by a complete one.</summary>
    /// <exception cref="CompressException">CMP0004 when the file cannot be written.</exception>
    public static void Write(ModelProto model, string path)
    {
        ArgumentNullException.ThrowIfNull(model);
        byte[] bytes = model.ToByteArray();
        AtomicFile.Write(path, stream => stream.Write(bytes));
    }

    /// <summary>Exports with an explicit graph (tests use it for graphs no built-in model describes).</summary>
    internal static ModelProto ExportGraph(ClassifierModel model, ModelGraph graph, OnnxExportOptions options)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(options);
        string architecture = model.Options.Architecture;
        int opset = options.Opset ?? model.Origin?.Opset ?? DefaultOpset;
        if (opset is < MinOpset or > MaxOpset)
            throw new CompressException(DiagnosticCode.UnsupportedExportNode,
                $"Opset {opset.ToString(CultureInfo.InvariantCulture)} is not supported for {architecture}; the exporter writes opsets {MinOpset} to {MaxOpset}.",
                hint: "Use opset 17 (or the opset your ONNX Runtime version supports, 11 or later).");

        var state = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (key, value) in model.OrderedStateDict()) state[key] = value;
        var valueShapes = new Dictionary<string, long[]>(StringComparer.Ordinal)
        {
            [graph.Input] = [model.InputShape.Channels, model.InputShape.Height, model.InputShape.Width],
        };
        var stateShapes = state.ToDictionary(p => p.Key, p => p.Value.shape, StringComparer.Ordinal);
        var shapeContext = new ShapeContext(stateShapes, valueShapes);
        foreach (var node in graph.Nodes)
        {
            try
            {
                valueShapes[node.Output] = node.Infer(shapeContext).Output;
            }
            catch (CompressException e) when (e.Code != DiagnosticCode.UnsupportedExportNode)
            {
                throw new CompressException(DiagnosticCode.UnsupportedExportNode,
                    $"{architecture}: cannot export graph node '{node.Name}': {e.Message}", hint: e.Hint);
            }
        }
        var writer = new GraphWriter(architecture, state, opset, valueShapes);

        // How often each value is read: a BatchNorm folds into its convolution only if nothing else reads the conv.
        var readers = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var node in graph.Nodes)
            foreach (string input in node.Inputs) readers[input] = readers.GetValueOrDefault(input) + 1;
        var producers = new Dictionary<string, GraphNode>(StringComparer.Ordinal);
        foreach (var node in graph.Nodes) producers[node.Output] = node;

        if (options.FoldBatchNorm)
        {
            foreach (var bn in graph.Nodes.OfType<BatchNormNode>())
            {
                if (producers.GetValueOrDefault(bn.Input) is ConvNode conv && readers.GetValueOrDefault(conv.Output) == 1 &&
                    conv.Output != graph.Output)
                    writer.FoldBatchNorm(conv, bn);
            }
        }

        foreach (var node in graph.Nodes) node.Lower(writer);

        var shape = model.InputShape;
        var onnxGraph = writer.Graph;
        string inputName = model.Origin?.InputName ?? InputName, outputName = model.Origin?.OutputName ?? OutputName;
        string batch = model.Origin?.BatchDimension ?? BatchDimension;
        onnxGraph.Name = model.Origin is null ? architecture : Path.GetFileNameWithoutExtension(model.Origin.Path);
        onnxGraph.Input.Add(TensorValue(inputName, batch, model.FixedBatch, shape.Channels, shape.Height, shape.Width));
        onnxGraph.Output.Add(TensorValue(outputName, batch, model.FixedBatch, model.Options.Classes));
        if (options.Preprocessing is { Embedded: true } embedded)
        {
            // The user's input takes raw pixels p: (p - 255 mean) / (255 std) = (p / 255 - mean) / std.
            const string normalized = "preprocess/normalized";
            RenameValue(onnxGraph, graph.Input, normalized);
            var n = embedded.Normalization;
            if (n.Channels != shape.Channels)
                throw new CompressException(DiagnosticCode.UnsupportedExportNode,
                    $"{architecture}: the preprocessing has {n.Channels} channel(s) but the model takes {shape.Channels}.");
            writer.AddInitializer("preprocess.mean", n.Mean.Select(m => m * 255f).ToArray(), [1, n.Channels, 1, 1]);
            writer.AddInitializer("preprocess.std", n.Std.Select(v => v * 255f).ToArray(), [1, n.Channels, 1, 1]);
            var sub = new NodeProto { OpType = "Sub", Name = "preprocess/sub" };
            sub.Input.AddRange([inputName, "preprocess.mean"]);
            sub.Output.Add("preprocess/centered");
            var div = new NodeProto { OpType = "Div", Name = "preprocess/div" };
            div.Input.AddRange(["preprocess/centered", "preprocess.std"]);
            div.Output.Add(normalized);
            onnxGraph.Node.Insert(0, div);
            onnxGraph.Node.Insert(0, sub);
        }
        else
        {
            RenameValue(onnxGraph, graph.Input, inputName);
        }
        RenameValue(onnxGraph, graph.Output, outputName);

        var proto = new ModelProto
        {
            IrVersion = IrVersionFor(opset),
            ProducerName = "compress",
            ProducerVersion = ProducerVersion,
            Graph = onnxGraph,
        };
        proto.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = opset });
        var metadata = new Dictionary<string, string>(options.Preprocessing?.ToMetadata() ?? new Dictionary<string, string>(), StringComparer.Ordinal);
        foreach (var (key, value) in options.Metadata) metadata[key] = value;
        foreach (var (key, value) in metadata.OrderBy(p => p.Key, StringComparer.Ordinal))
            proto.MetadataProps.Add(new StringStringEntryProto { Key = key, Value = value });
        return proto;
    }

    /// <summary>The IR version for <paramref name="opset"/>: the lowest that carries it (8 up to opset 18).</summary>
    internal static long IrVersionFor(int opset) => opset switch
    {
        <= 18 => IrVersion,
        <= 20 => 9,
        _ => 10,
    };

    /// <summary>A float32 tensor value <c>[batch, dims...]</c>, the batch symbolic unless fixed.</summary>
    private static ValueInfoProto TensorValue(string name, string batch, int? fixedBatch, params int[] dims)
    {
        var shape = new TensorShapeProto();
        shape.Dim.Add(fixedBatch is int n
            ? new TensorShapeProto.Types.Dimension { DimValue = n }
            : new TensorShapeProto.Types.Dimension { DimParam = batch });
        foreach (int d in dims) shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto
            {
                TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape },
            },
        };
    }

    /// <summary>Renames a graph value everywhere (the model's own input/output names become the fixed ONNX names).</summary>
    private static void RenameValue(GraphProto graph, string from, string to)
    {
        if (from == to) return;
        foreach (var node in graph.Node)
        {
            for (int i = 0; i < node.Input.Count; i++) if (node.Input[i] == from) node.Input[i] = to;
            for (int i = 0; i < node.Output.Count; i++) if (node.Output[i] == from) node.Output[i] = to;
        }
    }

    private static string FormatVersion(System.Version? version) => version is null
        ? "0.0.0"
        : string.Create(CultureInfo.InvariantCulture, $"{version.Major}.{version.Minor}.{Math.Max(version.Build, 0)}");
}

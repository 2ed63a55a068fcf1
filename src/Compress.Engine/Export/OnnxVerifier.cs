using System.Globalization;
using Compress.Engine.Diagnostics;
using Compress.Engine.Models;
using Microsoft.ML.OnnxRuntime;
using Onnx;
using static TorchSharp.torch;

namespace Compress.Engine.Export;

/// <summary>
/// Checks an exported ONNX model before it is written: <see cref="Validate"/> its structure (no runtime needed), then
/// <see cref="CheckParity"/> against the TorchSharp model in ONNX Runtime. Together they catch exporter bugs (a wrong
/// attribute, a mis-folded BatchNorm, a value read before it is written) at export time instead of in deployment.
/// </summary>
public static class OnnxVerifier
{
    /// <summary>Largest accepted <see cref="ParityResult.MaxRelativeDifference"/>.</summary>
    public const double ParityTolerance = 1e-4;

    /// <summary>
    /// Structural validation: every node input is a graph input, an initializer or an output of an earlier node
    /// (topological order); no value name is defined twice; every graph output is defined; and, by propagating shapes
    /// from the input through the supported ops, Conv/BatchNormalization/Gemm parameters fit their inputs' channel and
    /// feature counts, Add's operands agree, and the output shape matches the declared one.
    /// </summary>
    /// <exception cref="CompressException">CMP0502 naming the first offending node or value.</exception>
    public static void Validate(ModelProto model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var graph = model.Graph ?? throw Invalid("the model", "has no graph");
        var shapes = new Dictionary<string, long[]>(StringComparer.Ordinal);
        foreach (var input in graph.Input) Define(shapes, input.Name, DeclaredShape(input), "graph input");
        foreach (var init in graph.Initializer)
        {
            if (shapes.ContainsKey(init.Name) && graph.Input.Any(i => i.Name == init.Name)) continue; // optional override
            Define(shapes, init.Name, [.. init.Dims], "initializer");
        }

        for (int index = 0; index < graph.Node.Count; index++)
        {
            var node = graph.Node[index];
            string label = string.IsNullOrEmpty(node.Name)
                ? $"node #{index.ToString(CultureInfo.InvariantCulture)} ({node.OpType})"
                : $"node '{node.Name}' ({node.OpType})";
            var inputs = new List<long[]?>();
            foreach (string input in node.Input)
            {
                if (input.Length == 0)
                {
                    inputs.Add(null);
                    continue;
                }
                if (!shapes.TryGetValue(input, out var shape))
                    throw Invalid(label, $"reads '{input}', which is not a graph input, an initializer or the output of an earlier node");
                inputs.Add(shape);
            }
            if (node.Output.Count != 1) throw Invalid(label, $"has {node.Output.Count} outputs; every supported op has one");
            long[] output = Infer(node, label, inputs);
            Define(shapes, node.Output[0], output, label);
        }

        foreach (var output in graph.Output)
        {
            if (!shapes.TryGetValue(output.Name, out var actual))
                throw Invalid($"graph output '{output.Name}'", "is not written by any node");
            long[] declared = DeclaredShape(output);
            if (declared.Length != actual.Length || declared.Zip(actual).Any(p => p.First >= 0 && p.Second >= 0 && p.First != p.Second))
                throw Invalid($"graph output '{output.Name}'", $"is declared {Text(declared)} but computed as {Text(actual)}");
        }
    }

    /// <summary>
    /// Runs <paramref name="onnxBytes"/> in ONNX Runtime (CPU) and <paramref name="model"/> in eval mode on the same
    /// random batch (standard normal, from a torch generator seeded with <paramref name="seed"/>) and compares the
    /// logits. The model's training/eval mode is restored afterwards.
    /// </summary>
    /// <exception cref="CompressException">CMP0503 when the relative difference exceeds <see cref="ParityTolerance"/>
    /// or the output shape differs; CMP0502 when ONNX Runtime rejects the model.</exception>
    public static ParityResult CheckParity(ClassifierModel model, byte[] onnxBytes, int batch = 4, int seed = 0)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(onnxBytes);
        ArgumentOutOfRangeException.ThrowIfLessThan(batch, 1);
        var shape = model.InputShape;
        long[] inputShape = [batch, shape.Channels, shape.Height, shape.Width];

        float[] input;
        float[] expected;
        bool wasTraining = model.training;
        using (var scope = NewDisposeScope())
        using (no_grad())
        {
            using var generator = new Generator((ulong)seed);
            var x = randn(inputShape, dtype: ScalarType.Float32, generator: generator);
            input = x.data<float>().ToArray();
            var device = model.parameters().First().device;
            model.eval();
            try
            {
                expected = model.call(x.to(device)).to(CPU).contiguous().data<float>().ToArray();
            }
            finally
            {
                model.train(wasTraining);
            }
        }

        float[] actual;
        long[] actualShape;
        try
        {
            using var options = new SessionOptions();
            using var session = new InferenceSession(onnxBytes, options);
            using var inputValue = OrtValue.CreateTensorValueFromMemory(input, inputShape);
            using var runOptions = new RunOptions();
            using var outputs = session.Run(runOptions, [OnnxExporter.InputName], [inputValue], [OnnxExporter.OutputName]);
            actual = outputs[0].GetTensorDataAsSpan<float>().ToArray();
            actualShape = outputs[0].GetTensorTypeAndShape().Shape;
        }
        catch (OnnxRuntimeException e)
        {
            throw new CompressException(DiagnosticCode.InvalidOnnxGraph,
                $"{model.Options.Architecture}: ONNX Runtime rejected the exported model: {e.Message}",
                hint: "An exporter bug or a damaged file; re-export.", inner: e);
        }

        long classes = model.Options.Classes;
        if (actualShape.Length != 2 || actualShape[0] != batch || actualShape[1] != classes || actual.Length != expected.Length)
            throw new CompressException(DiagnosticCode.OnnxParityFailed,
                $"{model.Options.Architecture}: ONNX Runtime returned logits of shape {Text(actualShape)}, expected {Text([batch, classes])}.",
                hint: "An exporter bug; report it with the model and weights.");

        double maxDiff = 0, maxRef = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            double diff = Math.Abs((double)actual[i] - expected[i]);
            if (!(diff <= maxDiff)) maxDiff = diff; // NaN propagates as a failure
            maxRef = Math.Max(maxRef, Math.Abs((double)expected[i]));
        }
        var result = new ParityResult(batch, maxDiff, maxRef, maxDiff / Math.Max(maxRef, 1e-6));
        if (!(result.MaxRelativeDifference <= ParityTolerance))
            throw new CompressException(DiagnosticCode.OnnxParityFailed, string.Create(CultureInfo.InvariantCulture,
                $"{model.Options.Architecture}: ONNX Runtime and TorchSharp logits differ on {batch} seeded images (seed {seed}): max |a-b| = {result.MaxAbsoluteDifference:G6}, max |b| = {result.MaxReference:G6}, relative {result.MaxRelativeDifference:G6} > {ParityTolerance:G3}."),
                hint: "An exporter bug; report it with the model and weights.");
        return result;
    }

    private static long[] Infer(NodeProto node, string label, List<long[]?> inputs)
    {
        long[] Input(int i) => i < inputs.Count && inputs[i] is long[] s
            ? s
            : throw Invalid(label, $"lacks input {i.ToString(CultureInfo.InvariantCulture)}");
        void Rank(long[] s, int rank, string what)
        {
            if (s.Length != rank) throw Invalid(label, $"{what} has shape {Text(s)}, expected rank {rank.ToString(CultureInfo.InvariantCulture)}");
        }

        switch (node.OpType)
        {
            case "Conv":
            {
                long[] x = Input(0), w = Input(1);
                Rank(x, 4, "input");
                Rank(w, 4, "weight");
                long group = IntAttribute(node, "group", 1);
                if (group < 1 || w[0] % group != 0) throw Invalid(label, $"group {group} does not divide the {w[0]} output channels");
                if (Known(x[1]) && x[1] != w[1] * group)
                    throw Invalid(label, $"input has {x[1]} channels but the weight {Text(w)} with group {group} expects {w[1] * group}");
                if (inputs.Count > 2 && inputs[2] is long[] b && (b.Length != 1 || b[0] != w[0]))
                    throw Invalid(label, $"bias has shape {Text(b)}, expected [{w[0]}]");
                var kernel = IntsAttribute(node, "kernel_shape", [w[2], w[3]]);
                if (kernel.Length != 2 || kernel[0] != w[2] || kernel[1] != w[3])
                    throw Invalid(label, $"kernel_shape {Text(kernel)} does not match the weight {Text(w)}");
                return [x[0], w[0], .. Spatial(node, label, x, kernel)];
            }
            case "BatchNormalization":
            {
                long[] x = Input(0);
                if (x.Length < 2) throw Invalid(label, $"input has shape {Text(x)}, expected [N, C, ...]");
                for (int i = 1; i <= 4; i++)
                {
                    long[] p = Input(i);
                    if (p.Length != 1 || (Known(x[1]) && p[0] != x[1]))
                        throw Invalid(label, $"parameter {node.Input[i]} has shape {Text(p)}, expected [{x[1]}]");
                }
                return x;
            }
            case "Relu":
                return Input(0);
            case "Add":
            {
                long[] a = Input(0), b = Input(1);
                if (a.Length != b.Length || a.Zip(b).Any(p => Known(p.First) && Known(p.Second) && p.First != p.Second))
                    throw Invalid(label, $"adds shapes {Text(a)} and {Text(b)}");
                return a;
            }
            case "MaxPool":
            {
                long[] x = Input(0);
                Rank(x, 4, "input");
                var kernel = IntsAttribute(node, "kernel_shape", []);
                if (kernel.Length != 2) throw Invalid(label, "needs a 2-d kernel_shape");
                return [x[0], x[1], .. Spatial(node, label, x, kernel)];
            }
            case "GlobalAveragePool":
            {
                long[] x = Input(0);
                Rank(x, 4, "input");
                return [x[0], x[1], 1, 1];
            }
            case "Flatten":
            {
                long[] x = Input(0);
                long axis = IntAttribute(node, "axis", 1);
                if (axis != 1) throw Invalid(label, $"axis {axis} is not supported (only 1)");
                if (x.Skip(1).Any(d => !Known(d))) throw Invalid(label, $"input {Text(x)} has unknown feature dimensions");
                return [x[0], x.Skip(1).Aggregate(1L, (p, d) => p * d)];
            }
            case "Gemm":
            {
                long[] a = Input(0), w = Input(1);
                Rank(a, 2, "input");
                Rank(w, 2, "weight");
                bool transA = IntAttribute(node, "transA", 0) != 0, transB = IntAttribute(node, "transB", 0) != 0;
                long m = transA ? a[1] : a[0], k = transA ? a[0] : a[1];
                long kw = transB ? w[1] : w[0], n = transB ? w[0] : w[1];
                if (Known(k) && k != kw) throw Invalid(label, $"input has {k} features but the weight {Text(w)} expects {kw}");
                if (inputs.Count > 2 && inputs[2] is long[] c && !(c.Length == 1 && (c[0] == n || c[0] == 1)) && c.Length != 0)
                    throw Invalid(label, $"bias has shape {Text(c)}, expected [{n}]");
                return [m, n];
            }
            default:
                throw Invalid(label, $"op type '{node.OpType}' is not one the exporter writes");
        }
    }

    /// <summary>Output height and width of a Conv or MaxPool from its pads, strides and dilations.</summary>
    private static long[] Spatial(NodeProto node, string label, long[] x, long[] kernel)
    {
        var strides = IntsAttribute(node, "strides", [1, 1]);
        var pads = IntsAttribute(node, "pads", [0, 0, 0, 0]);
        var dilations = IntsAttribute(node, "dilations", [1, 1]);
        if (strides.Length != 2 || pads.Length != 4 || dilations.Length != 2)
            throw Invalid(label, "strides, pads or dilations have the wrong length for a 2-d op");
        var result = new long[2];
        for (int i = 0; i < 2; i++)
        {
            if (!Known(x[2 + i]))
            {
                result[i] = -1;
                continue;
            }
            long extent = x[2 + i] + pads[i] + pads[i + 2] - (dilations[i] * (kernel[i] - 1) + 1);
            if (strides[i] < 1 || extent < 0)
                throw Invalid(label, $"the {Text(kernel)} window does not fit the input {Text(x)}");
            result[i] = extent / strides[i] + 1;
        }
        return result;
    }

    private static long IntAttribute(NodeProto node, string name, long fallback) =>
        node.Attribute.FirstOrDefault(a => a.Name == name) is { } a ? a.I : fallback;

    private static long[] IntsAttribute(NodeProto node, string name, long[] fallback) =>
        node.Attribute.FirstOrDefault(a => a.Name == name) is { } a ? [.. a.Ints] : fallback;

    private static long[] DeclaredShape(ValueInfoProto value)
    {
        var shape = value.Type?.TensorType?.Shape;
        return shape is null ? [] : [.. shape.Dim.Select(d => d.HasDimValue ? d.DimValue : -1)];
    }

    private static void Define(Dictionary<string, long[]> shapes, string name, long[] shape, string by)
    {
        if (string.IsNullOrEmpty(name)) throw Invalid(by, "defines a value with an empty name");
        if (!shapes.TryAdd(name, shape)) throw Invalid(by, $"defines value '{name}', which is already defined");
    }

    private static bool Known(long dimension) => dimension >= 0;

    private static string Text(long[] shape) =>
        "[" + string.Join(", ", shape.Select(d => d < 0 ? "?" : d.ToString(CultureInfo.InvariantCulture))) + "]";

    private static CompressException Invalid(string subject, string problem) => new(DiagnosticCode.InvalidOnnxGraph,
        $"Invalid ONNX graph: {subject} {problem}.", hint: "An exporter bug or a tampered file; re-export the model.");
}

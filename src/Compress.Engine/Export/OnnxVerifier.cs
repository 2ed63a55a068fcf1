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
    /// (topological order); no value name is defined twice; every graph output is defined; and the graph reads back
    /// through the importer (<see cref="Models.Onnx.OnnxImporter"/>), whose op table propagates shapes with each op's
    /// one shape rule: weights fit their inputs' channels and features, element-wise operands agree, and the output is
    /// the declared <c>[batch, classes]</c>.
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
            foreach (string input in node.Input)
            {
                if (input.Length > 0 && !shapes.ContainsKey(input))
                    throw Invalid(label, $"reads '{input}', which is not a graph input, an initializer or the output of an earlier node");
            }
            if (node.Output.Count != 1) throw Invalid(label, $"has {node.Output.Count} outputs; every op the exporter writes has one");
            Define(shapes, node.Output[0], [], label);
        }

        foreach (var output in graph.Output)
        {
            if (!shapes.ContainsKey(output.Name))
                throw Invalid($"graph output '{output.Name}'", "is not written by any node");
        }

        // Shapes: the graph is read back by the importer, whose op table holds the one shape rule of each op, and
        // must give the declared output.
        Models.Onnx.ImportedOnnxModel imported;
        try
        {
            imported = Models.Onnx.OnnxImporter.Read(model, graph.Name.Length > 0 ? graph.Name : "exported model");
        }
        catch (CompressException e)
        {
            throw new CompressException(DiagnosticCode.InvalidOnnxGraph, $"Invalid ONNX graph: {e.Message}",
                hint: "An exporter bug or a tampered file; re-export the model.", inner: e);
        }
        var declared = DeclaredShape(graph.Output[0]);
        if (declared.Length != 2 || (declared[1] >= 0 && declared[1] != imported.Classes))
            throw Invalid($"graph output '{graph.Output[0].Name}'",
                $"is declared {Text(declared)} but computed as [batch, {imported.Classes.ToString(CultureInfo.InvariantCulture)}]");
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
        if (model.FixedBatch is int fixedBatch) batch = fixedBatch;
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
            // A model with embedded preprocessing takes raw pixels: feed x * 255 std + 255 mean, which it maps back to x.
            if (Data.Preprocessing.EmbeddedNormalization(session.ModelMetadata.CustomMetadataMap) is { } embedded)
            {
                int plane = shape.Height * shape.Width;
                for (int i = 0; i < input.Length; i++)
                {
                    int c = i / plane % shape.Channels;
                    input[i] = (input[i] * embedded.Std[c] * 255f) + (embedded.Mean[c] * 255f);
                }
            }
            using var inputValue = OrtValue.CreateTensorValueFromMemory(input, inputShape);
            using var runOptions = new RunOptions();
            using var outputs = session.Run(runOptions, [model.Origin?.InputName ?? OnnxExporter.InputName], [inputValue],
                [model.Origin?.OutputName ?? OnnxExporter.OutputName]);
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

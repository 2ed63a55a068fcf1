using System.Diagnostics;
using System.Globalization;
using Compress.Engine.Export;
using Compress.Engine.Models;
using Compress.Engine.Models.Onnx;
using static TorchSharp.torch;

namespace Compress.Bench;

/// <summary>
/// Training throughput of an imported ONNX model against the built-in model it was exported from: resnet18-cifar
/// (<c>--width</c>, default 0.5, seeded) is written by our exporter with BatchNorm kept (as PyTorch's exporter writes a
/// training-ready CNN), imported with <see cref="OnnxImporter.Load"/> (verified against ONNX Runtime), and both are
/// trained side by side from the same weights (<see cref="TrainingComparison"/>), batch 64. Options as
/// <see cref="GraphTrainingBenchmark"/>. Exit code 1 when the first-step losses differ.
/// </summary>
internal static class OnnxTrainingBenchmark
{
    public static int Run(string[] args)
    {
        double width = BenchOptions.Number(args, "--width", 0.5);
        int rounds = BenchOptions.Integer(args, "--rounds", 5);
        int steps = BenchOptions.Integer(args, "--steps", 10);
        int seed = BenchOptions.Integer(args, "--seed", 0);
        const int batch = 64;
        var c = CultureInfo.InvariantCulture;

        manual_seed(seed);
        using var builtIn = ModelFactory.Create(new ModelOptions { Architecture = "resnet18-cifar", WidthMultiplier = width });
        string folder = Directory.CreateTempSubdirectory("compress-bench-").FullName;
        string path = Path.Combine(folder, "resnet18-cifar.onnx");
        try
        {
            OnnxExporter.Write(OnnxExporter.Export(builtIn, new OnnxExportOptions { FoldBatchNorm = false }), path);
            long start = Stopwatch.GetTimestamp();
            using var imported = OnnxImporter.Load(path);
            double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;

            // The import must hold the exported weights exactly (and the same keys: the initializers are named after them).
            double maxDiff = 0;
            var importedState = imported.state_dict();
            foreach (var (key, value) in builtIn.state_dict())
            {
                using var scope = NewDisposeScope();
                if (!importedState.TryGetValue(key, out var other))
                    throw new InvalidOperationException($"The imported model has no state tensor '{key}'.");
                if (value.dtype == ScalarType.Float32) maxDiff = Math.Max(maxDiff, (value - other).abs().max().item<float>());
            }
            Console.WriteLine(string.Create(c,
                $"resnet18-cifar at width {width:R} exported (BatchNorm kept, {new FileInfo(path).Length:N0} bytes) and imported + verified in {seconds:F2} s: {imported.DescribeGraph().Nodes.Count} graph nodes (built-in {builtIn.DescribeGraph().Nodes.Count}), {importedState.Count} state tensors (built-in {builtIn.state_dict().Count}), max |imported - built-in| weight {maxDiff:G3}."));
            return TrainingComparison.Run(
                string.Create(c, $"Training throughput, imported ONNX vs built-in: resnet18-cifar width {width:R}"),
                ("imported ONNX (BN kept)", imported), ("built-in", builtIn), batch, builtIn.Options.Classes, rounds, steps, seed);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}

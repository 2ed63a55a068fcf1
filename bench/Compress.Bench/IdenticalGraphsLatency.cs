using System.Globalization;
using Compress.Engine.Benchmark;
using Compress.Engine.Diagnostics;
using Compress.Engine.Export;
using Compress.Engine.Models;
using Compress.Engine.Spec;
using static TorchSharp.torch;

namespace Compress.Bench;

/// <summary>
/// How far from 1.00x the build report's speedup reads when nothing changed: two copies of the same ONNX graph timed
/// the way the report times the unpruned model against the artifact (alternately, at least
/// <see cref="SpecJob.TimedRuns"/> runs each, about <see cref="SpecJob.LatencySeconds"/> s), several times over, for a
/// small and a larger model; and, for comparison, the old way (50 runs of one model, then 50 of the other).
/// <c>dotnet run -c Release --project bench/Compress.Bench -- identical-latency [--repeats N]</c>
/// </summary>
internal static class IdenticalGraphsLatency
{
    public static int Run(string[] args)
    {
        int repeats = BenchOptions.Integer(args, "--repeats", 10);
        string folder = Directory.CreateTempSubdirectory("compress-identical-").FullName;
        try
        {
            Console.WriteLine("| model | method | runs each | speedups of identical graphs (min .. max over repeats) | worst |x - 1| |");
            Console.WriteLine("|---|---|---:|---|---:|");
            foreach (var (architecture, width) in new[] { ("resnet18-cifar", 0.25), ("resnet18-cifar", 1.0) })
            {
                manual_seed(0);
                using var model = ModelFactory.Create(new ModelOptions { Architecture = architecture, WidthMultiplier = width });
                model.eval();
                string a = Path.Combine(folder, "a.onnx"), b = Path.Combine(folder, "b.onnx");
                OnnxExporter.Write(OnnxExporter.Export(model, new OnnxExportOptions { FoldBatchNorm = true }), a);
                File.Copy(a, b, overwrite: true);
                string label = string.Create(CultureInfo.InvariantCulture, $"{architecture} w{width}");
                foreach (bool spinning in new[] { false, true })
                {
                    var alternated = new List<double>();
                    var p50 = new List<double>();
                    int runs = 0;
                    for (int r = 0; r < repeats; r++)
                    {
                        // What OrtBenchmark.TimeAgainst does (which never lets threads spin), with the spinning choice open.
                        var result = OrtBenchmark.Run(new OrtBenchmarkOptions
                        {
                            Model = b, Baseline = a, MeasureAccuracy = false, BatchSizes = [1], Runs = SpecJob.TimedRuns, Warmup = 10,
                            Seconds = SpecJob.LatencySeconds, Session = new OrtSessionSettings { AllowSpinning = spinning },
                        }, DiagnosticSinks.None);
                        alternated.Add(result.Ratio!.Speedup);
                        p50.Add(result.Baseline!.LatencyMs.P50 / result.LatencyMs.P50);
                        runs = result.LatencyMs.Runs;
                    }
                    string how = spinning ? "threads spinning" : "no spinning (build report)";
                    Print(label, $"alternated, median of paired ratios, {how}", runs, alternated);
                    Print(label, $"alternated, ratio of medians, {how}", runs, p50);
                }
                var sequential = new List<double>();
                for (int r = 0; r < repeats; r++)
                {
                    double first = Sequential(a), second = Sequential(b);
                    sequential.Add(first / second);
                }
                Print(label, "one after the other, 50 runs (before)", 50, sequential);
            }
            return 0;
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static double Sequential(string onnx) =>
        OrtBenchmark.Run(new OrtBenchmarkOptions { Model = onnx, MeasureAccuracy = false, BatchSizes = [1], Runs = 50, Warmup = 10 }, DiagnosticSinks.None)
            .LatencyMs.P50;

    private static void Print(string model, string method, int runs, List<double> speedups) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {model} | {method} | {runs} | {speedups.Min():F3} .. {speedups.Max():F3} | {speedups.Max(s => Math.Abs(s - 1)):F3} |"));
}

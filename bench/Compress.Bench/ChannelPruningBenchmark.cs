using System.Globalization;
using Compress.Engine.Benchmark;
using Compress.Engine.Export;
using Compress.Engine.Models;
using Compress.Engine.Pruning.Channels;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using static TorchSharp.torch;

namespace Compress.Bench;

/// <summary>
/// Does removing channels make the model faster? For resnet18-cifar and vgg-cifar at width 1 (seeded weights; latency
/// does not depend on their values): a uniform channel prune (L2 ranking), both models exported (BatchNorm folded),
/// then ONNX Runtime batch-1 latency of dense and pruned measured alternately in rounds, so both see the same machine
/// load. The target: speedup (dense p50 / pruned p50) at least 0.9 x the MACs reduction (dense MACs / pruned MACs).
/// </summary>
internal static class ChannelPruningBenchmark
{
    public static int Run(string[] args)
    {
        double ratio = Option(args, "--ratio", 0.3);
        int rounds = (int)Option(args, "--rounds", 10);
        int perRound = (int)Option(args, "--runs", 20);
        int threads = (int)Option(args, "--threads", 0);
        int roundTo = (int)Option(args, "--round-to", 8);
        var c = CultureInfo.InvariantCulture;
        var rows = new List<string>();
        bool allMet = true;
        foreach (string architecture in new[] { "resnet18-cifar", "vgg-cifar" })
        {
            manual_seed(0);
            using var dense = ModelFactory.Create(new ModelOptions { Architecture = architecture });
            dense.eval();
            using var pruned = ChannelPruner.Prune(dense, new ChannelPruningOptions { Ratio = ratio, Ranking = ChannelRanking.L2, RoundTo = roundTo });
            pruned.Model.eval();
            var denseProfile = ModelProfiler.Profile(dense);
            var prunedProfile = ModelProfiler.Profile(pruned.Model);
            byte[] denseOnnx = OnnxExporter.Export(dense).ToByteArray();
            byte[] prunedOnnx = OnnxExporter.Export(pruned.Model).ToByteArray();

            using var a = new Session(denseOnnx, dense.Options.Classes, threads);
            using var b = new Session(prunedOnnx, dense.Options.Classes, threads);
            for (int i = 0; i < 10; i++) { a.Run(); b.Run(); }
            var denseMs = new List<double>();
            var prunedMs = new List<double>();
            for (int round = 0; round < rounds; round++)
            {
                Timing.Time(a.Run, perRound, denseMs);
                Timing.Time(b.Run, perRound, prunedMs);
            }
            double macReduction = (double)denseProfile.Macs / prunedProfile.Macs;
            double denseP50 = Timing.Percentile(denseMs, 50), prunedP50 = Timing.Percentile(prunedMs, 50);
            double speedup = denseP50 / prunedP50;
            bool met = speedup >= 0.9 * macReduction;
            allMet &= met;
            rows.Add(string.Create(c,
                $"| {architecture} | {denseProfile.Macs:N0} | {prunedProfile.Macs:N0} | {macReduction:F2}x | {denseProfile.Parameters:N0} | {prunedProfile.Parameters:N0} | {denseP50:F3} | {prunedP50:F3} | {speedup:F2}x | {speedup / macReduction:F2} | {(met ? "yes" : "NO")} |"));
        }

        Console.WriteLine(string.Create(c,
            $"## Channel pruning: ONNX Runtime batch-1 latency, uniform ratio {ratio} (L2{(roundTo > 1 ? ", widths rounded to multiples of " + roundTo.ToString(CultureInfo.InvariantCulture) : "")}), width 1, {rounds} alternating rounds of {perRound} runs, ONNX Runtime intra-op threads {(threads == 0 ? "default" : threads.ToString(CultureInfo.InvariantCulture))} on {Environment.ProcessorCount} cores"));
        Console.WriteLine();
        Console.WriteLine("| model | MACs dense | MACs pruned | MACs reduction | params dense | params pruned | p50 dense ms | p50 pruned ms | speedup | speedup / MACs reduction | >= 0.9 |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|");
        foreach (string row in rows) Console.WriteLine(row);
        Console.WriteLine();
        return allMet ? 0 : 1;
    }

    /// <summary>One ONNX Runtime session with pre-bound input and output (all graph optimisations).</summary>
    private sealed class Session : IDisposable
    {
        private readonly SessionOptions _options;
        private readonly InferenceSession _session;
        private readonly OrtValue _input;
        private readonly OrtValue _output;
        private readonly OrtIoBinding _binding;
        private readonly RunOptions _run = new();

        public Session(byte[] model, int classes, int threads)
        {
            _options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL, IntraOpNumThreads = threads };
            _session = new InferenceSession(model, _options);
            var input = new float[3 * 32 * 32];
            var random = new Random(0);
            for (int i = 0; i < input.Length; i++) input[i] = (float)(random.NextDouble() * 2 - 1);
            _input = OrtValue.CreateTensorValueFromMemory(input, [1, 3, 32, 32]);
            _output = OrtValue.CreateTensorValueFromMemory(new float[classes], [1, classes]);
            _binding = _session.CreateIoBinding();
            _binding.BindInput(OnnxExporter.InputName, _input);
            _binding.BindOutput(OnnxExporter.OutputName, _output);
        }

        public void Run() => _session.RunWithBinding(_run, _binding);

        public void Dispose()
        {
            _binding.Dispose();
            _input.Dispose();
            _output.Dispose();
            _run.Dispose();
            _session.Dispose();
            _options.Dispose();
        }
    }

    private static double Option(string[] args, string name, double fallback)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? double.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
    }
}

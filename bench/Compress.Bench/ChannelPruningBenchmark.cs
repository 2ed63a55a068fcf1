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
/// does not depend on their values), or with <c>--onnx-dir DIR</c> for torchvision's MobileNetV2, ResNet-50 and
/// EfficientNet-B0 at 224x224 imported from the ONNX files of <c>make_onnx_import.py --full224 DIR</c>: a uniform channel
/// prune (L2 ranking), both models exported (BatchNorm folded), then ONNX Runtime batch-1 latency of dense and pruned
/// measured alternately in rounds, so both see the same machine load; with <c>--threads both</c>, at 1 thread and at
/// ONNX Runtime's default in the same run. The target: speedup (dense p50 / pruned p50) at least 0.9 x the MACs
/// reduction (dense MACs / pruned MACs) at 1 thread; the default-thread figure is reported as measured.
/// </summary>
internal static class ChannelPruningBenchmark
{
    private static readonly string[] BuiltInModels = ["resnet18-cifar", "vgg-cifar"];
    private static readonly string[] ImportedModels = ["mobilenet_v2-op17-bnkept", "resnet50-op17-bnkept", "efficientnet_b0-op17-bnkept"];

    public static int Run(string[] args)
    {
        double ratio = Option(args, "--ratio", 0.3);
        int rounds = (int)Option(args, "--rounds", 10);
        int perRound = (int)Option(args, "--runs", 20);
        string threadsText = OptionText(args, "--threads") ?? "0";
        int[] threadCounts = threadsText == "both" ? [1, 0] : [int.Parse(threadsText, CultureInfo.InvariantCulture)];
        int roundTo = (int)Option(args, "--round-to", 8);
        string? onnxDir = OptionText(args, "--onnx-dir");
        var c = CultureInfo.InvariantCulture;
        var rows = new List<string>();
        bool allMet = true;
        var models = onnxDir is null
            ? BuiltInModels.Select(a => (a, (Func<ClassifierModel>)(() => BuiltIn(a))))
            : ImportedModels.Select(f => (f, (Func<ClassifierModel>)(() => Imported(Path.Combine(onnxDir, f + ".onnx")))));
        foreach (var (name, create) in models)
        {
            using var dense = create();
            dense.eval();
            using var pruned = ChannelPruner.Prune(dense, new ChannelPruningOptions { Ratio = ratio, Ranking = ChannelRanking.L2, RoundTo = roundTo });
            pruned.Model.eval();
            var denseProfile = ModelProfiler.Profile(dense);
            var prunedProfile = ModelProfiler.Profile(pruned.Model);
            var foldedOptions = new OnnxExportOptions { FoldBatchNorm = true };
            byte[] denseOnnx = OnnxExporter.Export(dense, foldedOptions).ToByteArray();
            byte[] prunedOnnx = OnnxExporter.Export(pruned.Model, foldedOptions).ToByteArray();
            // The MACs of what is timed: the BatchNorm-folded graphs, counted by the same rules.
            long denseMacs = OnnxProfile.Measure(Onnx.ModelProto.Parser.ParseFrom(denseOnnx)).Macs;
            long prunedMacs = OnnxProfile.Measure(Onnx.ModelProto.Parser.ParseFrom(prunedOnnx)).Macs;
            double macReduction = (double)denseMacs / prunedMacs;
            var shape = dense.InputShape;

            // One session pair per thread count, all open together, timed in interleaved rounds.
            var pairs = threadCounts.Select(t => (Threads: t, Dense: new Session(denseOnnx, shape, t), Pruned: new Session(prunedOnnx, shape, t))).ToList();
            try
            {
                var times = pairs.Select(_ => (Dense: new List<double>(), Pruned: new List<double>())).ToList();
                foreach (var pair in pairs)
                    for (int i = 0; i < 5; i++) { pair.Dense.Run(); pair.Pruned.Run(); }
                for (int round = 0; round < rounds; round++)
                {
                    for (int p = 0; p < pairs.Count; p++)
                    {
                        Timing.Time(pairs[p].Dense.Run, perRound, times[p].Dense);
                        Timing.Time(pairs[p].Pruned.Run, perRound, times[p].Pruned);
                    }
                }
                for (int p = 0; p < pairs.Count; p++)
                {
                    double denseP50 = Timing.Percentile(times[p].Dense, 50), prunedP50 = Timing.Percentile(times[p].Pruned, 50);
                    double speedup = denseP50 / prunedP50;
                    bool judged = pairs[p].Threads == 1 || threadCounts.Length == 1;
                    bool met = speedup >= 0.9 * macReduction;
                    if (judged) allMet &= met;
                    string threads = pairs[p].Threads == 0 ? "default" : pairs[p].Threads.ToString(c);
                    rows.Add(string.Create(c,
                        $"| {name} | {threads} | {denseMacs:N0} | {prunedMacs:N0} | {macReduction:F2}x | {denseProfile.Parameters:N0} | {prunedProfile.Parameters:N0} | {denseP50:F3} | {prunedP50:F3} | {speedup:F2}x | {speedup / macReduction:F2} | {(judged ? met ? "yes" : "NO" : "(reported)")} |"));
                }
            }
            finally
            {
                foreach (var pair in pairs)
                {
                    pair.Dense.Dispose();
                    pair.Pruned.Dispose();
                }
            }
        }

        Console.WriteLine(string.Create(c,
            $"## Channel pruning: ONNX Runtime batch-1 latency, uniform ratio {ratio} (L2{(roundTo > 1 ? ", widths rounded to multiples of " + roundTo.ToString(CultureInfo.InvariantCulture) : "")}), {(onnxDir is null ? "width 1" : "torchvision at 224x224")}, {rounds} alternating rounds of {perRound} runs, ONNX Runtime intra-op threads {threadsText.Replace("0", "default", StringComparison.Ordinal)} on {Environment.ProcessorCount} cores"));
        Console.WriteLine();
        Console.WriteLine("| model | ORT threads | MACs dense | MACs pruned | MACs reduction | params dense | params pruned | p50 dense ms | p50 pruned ms | speedup | speedup / MACs reduction | >= 0.9 |");
        Console.WriteLine("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|");
        foreach (string row in rows) Console.WriteLine(row);
        Console.WriteLine();
        return allMet ? 0 : 1;
    }

    private static ClassifierModel BuiltIn(string architecture)
    {
        manual_seed(0);
        return ModelFactory.Create(new ModelOptions { Architecture = architecture });
    }

    private static ClassifierModel Imported(string path)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException($"{path} is missing: write the files with " +
                "/usr/bin/python3 tests/fixtures/onnx-import/make_onnx_import.py --full224 DIR", path);
        return Compress.Engine.Models.Onnx.OnnxImporter.Create(Compress.Engine.Models.Onnx.OnnxImporter.Read(path));
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

        public Session(byte[] model, InputShape shape, int threads)
        {
            _options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL, IntraOpNumThreads = threads };
            if (Environment.GetEnvironmentVariable("COMPRESS_BENCH_ORT_PROFILE") is "1") _options.EnableProfiling = true;
            if (Environment.GetEnvironmentVariable("COMPRESS_BENCH_NO_SPIN") is "1") _options.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
            _session = new InferenceSession(model, _options);
            var input = new float[shape.Channels * shape.Height * shape.Width];
            var random = new Random(0);
            for (int i = 0; i < input.Length; i++) input[i] = (float)(random.NextDouble() * 2 - 1);
            _input = OrtValue.CreateTensorValueFromMemory(input, [1, shape.Channels, shape.Height, shape.Width]);
            string outputName = _session.OutputMetadata.Keys.First();
            long classes = _session.OutputMetadata[outputName].Dimensions[^1];
            _output = OrtValue.CreateTensorValueFromMemory(new float[classes], [1, classes]);
            _binding = _session.CreateIoBinding();
            _binding.BindInput(_session.InputMetadata.Keys.First(), _input);
            _binding.BindOutput(outputName, _output);
        }

        public void Run() => _session.RunWithBinding(_run, _binding);

        public void Dispose()
        {
            if (_options.EnableProfiling) _session.EndProfiling();
            _binding.Dispose();
            _input.Dispose();
            _output.Dispose();
            _run.Dispose();
            _session.Dispose();
            _options.Dispose();
        }
    }

    private static string? OptionText(string[] args, string name)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }

    private static double Option(string[] args, string name, double fallback)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? double.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
    }
}

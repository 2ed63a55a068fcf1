using System.Globalization;
using Compress.Engine.Export;
using Compress.Engine.Models;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using static TorchSharp.torch;

namespace Compress.Bench;

/// <summary>
/// Batch-1 latency of the same resnet18-cifar weights (width 1, seeded) in TorchSharp eager mode (eval, no_grad) and in
/// ONNX Runtime (our export, BatchNorm folded, all graph optimisations), measured alternately in rounds so both see the
/// same machine load. Pre-allocated input and output for ONNX Runtime; the TorchSharp side runs in a dispose scope.
/// </summary>
internal static class OnnxLatencyBenchmark
{
    public static void Run(int rounds = 10, int perRound = 20)
    {
        manual_seed(0);
        using var model = ModelFactory.Create(new ModelOptions { Architecture = "resnet18-cifar" });
        model.eval();
        byte[] onnx = OnnxExporter.Export(model).ToByteArray();

        using var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        using var session = new InferenceSession(onnx, options);
        var input = new float[3 * 32 * 32];
        var random = new Random(0);
        for (int i = 0; i < input.Length; i++) input[i] = (float)(random.NextDouble() * 2 - 1);
        var output = new float[10];
        using var inputValue = OrtValue.CreateTensorValueFromMemory(input, [1, 3, 32, 32]);
        using var outputValue = OrtValue.CreateTensorValueFromMemory(output, [1, 10]);
        using var binding = session.CreateIoBinding();
        binding.BindInput("input", inputValue);
        binding.BindOutput("logits", outputValue);
        using var runOptions = new RunOptions();
        using var torchInput = tensor(input).reshape(1, 3, 32, 32);

        void RunOrt() => session.RunWithBinding(runOptions, binding);
        void RunTorch()
        {
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            model.forward(torchInput);
        }

        for (int i = 0; i < 5; i++) { RunOrt(); RunTorch(); } // warm-up
        var ort = new List<double>();
        var eager = new List<double>();
        for (int round = 0; round < rounds; round++)
        {
            Timing.Time(RunOrt, perRound, ort);
            Timing.Time(RunTorch, perRound, eager);
        }

        // Same outputs? (the exporter's own parity check uses a batch of 4; this is the benchmark's input)
        using (no_grad())
        {
            using var expected = model.forward(torchInput);
            RunOrt();
            var e = expected.data<float>().ToArray();
            double maxDiff = e.Zip(output, (a, b) => Math.Abs(a - b)).Max();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Max |ORT - TorchSharp| on the benchmark input: {maxDiff:E2}"));
        }

        var c = CultureInfo.InvariantCulture;
        Console.WriteLine($"## Batch-1 latency: resnet18-cifar (11.17M parameters), {rounds} alternating rounds of {perRound} runs, threads {get_num_threads()}");
        Console.WriteLine();
        Console.WriteLine("| runtime | p50 ms | p90 ms | p99 ms | min ms |");
        Console.WriteLine("|---|---:|---:|---:|---:|");
        foreach (var (name, list) in new[] { ("TorchSharp eager (eval, no_grad)", eager), ("ONNX Runtime (BN folded, ORT_ENABLE_ALL)", ort) })
            Console.WriteLine(string.Create(c, $"| {name} | {Timing.Percentile(list, 50):F3} | {Timing.Percentile(list, 90):F3} | {Timing.Percentile(list, 99):F3} | {list.Min():F3} |"));
        Console.WriteLine();
        Console.WriteLine(string.Create(c, $"Speedup of ONNX Runtime over TorchSharp at p50: {Timing.Percentile(eager, 50) / Timing.Percentile(ort, 50):F2}x"));
        Console.WriteLine();
    }
}

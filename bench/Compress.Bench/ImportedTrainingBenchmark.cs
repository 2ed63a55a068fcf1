using System.Diagnostics;
using System.Globalization;
using Compress.Engine.Models.Onnx;
using Compress.Engine.Training;
using static TorchSharp.torch;

namespace Compress.Bench;

/// <summary>
/// Training-step throughput of ONNX models exported by PyTorch (<c>bench/pytorch/export_models.py</c>: MobileNetV2 at
/// 3x32x32, ResNet-50 at 3x224x224), imported by the engine: NCHW against channels-last, per libtorch thread count,
/// alternated round by round (odd rounds reversed), random batches. Prints what <see cref="MemoryFormat.Auto"/> picks
/// for the model and why.
/// <code>imported-training --model FILE [--batch 32] [--threads 1,2] [--rounds 2] [--steps 3]</code>
/// </summary>
internal static class ImportedTrainingBenchmark
{
    public static int Run(string[] args)
    {
        string path = BenchOptions.Text(args, "--model") ?? throw new ArgumentException("--model FILE is required");
        int batch = BenchOptions.Integer(args, "--batch", 32), rounds = BenchOptions.Integer(args, "--rounds", 2);
        int steps = BenchOptions.Integer(args, "--steps", 3);
        int[] threadCounts = (BenchOptions.Text(args, "--threads") ?? "1,2").Split(',').Select(t => int.Parse(t, CultureInfo.InvariantCulture)).ToArray();
        var c = CultureInfo.InvariantCulture;
        var nchw = OnnxImporter.Load(path);
        var last = OnnxImporter.Load(path, verify: false);
        var input = nchw.InputShape;
        var (auto, why, _) = ChannelsLastLayout.Decide(nchw, MemoryFormat.Auto);
        Console.WriteLine(string.Create(c, $"## Training step of {Path.GetFileName(path)} ({nchw.ParameterCount():N0} parameters, input {input.Channels}x{input.Height}x{input.Width}), batch {batch}, {rounds} alternated rounds of {steps} steps"));
        Console.WriteLine();
        Console.WriteLine($"Auto picks: {why}.");
        Console.WriteLine();
        Console.WriteLine("| threads | NCHW images/s | channels-last images/s | channels-last vs NCHW |");
        Console.WriteLine("|---:|---:|---:|---:|");
        ChannelsLastLayout.ToChannelsLast(last);
        manual_seed(0);
        using var images = randn(batch, input.Channels, input.Height, input.Width);
        using var imagesLast = ChannelsLastLayout.Of(images);
        long classes = nchw.forward(images[..1]).shape[1];
        using var labels = randint(0, classes, [batch], dtype: ScalarType.Int64);
        using var optimizerNchw = optim.SGD(nchw.parameters(), 0.001, 0.9);
        using var optimizerLast = optim.SGD(last.parameters(), 0.001, 0.9);
        nchw.train();
        last.train();
        foreach (int threads in threadCounts)
        {
            set_num_threads(threads);
            var times = new Dictionary<bool, List<double>> { [false] = [], [true] = [] };
            for (int round = 0; round < rounds; round++)
            {
                foreach (bool channelsLast in round % 2 == 0 ? new[] { false, true } : [true, false])
                {
                    var (model, optimizer, x) = channelsLast ? (last, optimizerLast, imagesLast) : (nchw, optimizerNchw, images);
                    TrainingBenchmark.Step(model, optimizer, x, labels);
                    for (int i = 0; i < steps; i++)
                    {
                        long start = Stopwatch.GetTimestamp();
                        TrainingBenchmark.Step(model, optimizer, x, labels);
                        times[channelsLast].Add(Stopwatch.GetElapsedTime(start).TotalSeconds);
                    }
                }
            }
            double a = batch / Timing.Median(times[false]), b = batch / Timing.Median(times[true]);
            Console.WriteLine(string.Create(c, $"| {threads} | {a:F1} | {b:F1} | {b / a:F2}x |"));
        }
        return 0;
    }
}

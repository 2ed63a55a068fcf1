using System.Diagnostics;
using System.Globalization;
using Compress.Engine.Models;
using static TorchSharp.torch;

namespace Compress.Bench;

/// <summary>
/// Training throughput of resnet18-cifar (width 1, 11.17M parameters) at batch 64: forward, cross-entropy, backward and
/// an SGD step on pre-made random batches (so the data pipeline is not measured), for 1 and 2 libtorch threads,
/// interleaved in one run so that both see the same machine load.
/// </summary>
internal static class TrainingBenchmark
{
    public static void Run(int steps = 8, int rounds = 2)
    {
        const int batch = 64;
        manual_seed(0);
        using var model = ModelFactory.Create(new ModelOptions { Architecture = "resnet18-cifar" });
        model.train();
        using var optimizer = optim.SGD(model.parameters(), 0.01, 0.9);
        using var images = randn(batch, 3, 32, 32);
        using var labels = randint(0, 10, [batch], dtype: int64);
        var times = new Dictionary<int, List<double>> { [1] = [], [2] = [] };

        for (int round = 0; round < rounds; round++)
        {
            foreach (int threads in new[] { 1, 2 })
            {
                set_num_threads(threads);
                Step(model, optimizer, images, labels); // warm-up at this thread count
                for (int i = 0; i < steps; i++)
                {
                    var clock = Stopwatch.StartNew();
                    Step(model, optimizer, images, labels);
                    times[threads].Add(clock.Elapsed.TotalSeconds);
                }
            }
        }

        var c = CultureInfo.InvariantCulture;
        Console.WriteLine($"## Training throughput: resnet18-cifar (11.17M parameters), batch {batch}, {steps * rounds} timed steps per row");
        Console.WriteLine();
        Console.WriteLine("| threads | median step (s) | min step (s) | images/s (median) |");
        Console.WriteLine("|---:|---:|---:|---:|");
        foreach (var (threads, list) in times)
        {
            double median = Timing.Median(list);
            Console.WriteLine(string.Create(c, $"| {threads} | {median:F3} | {list.Min():F3} | {batch / median:F1} |"));
        }
        Console.WriteLine();
    }

    /// <summary>One training step (forward, cross-entropy in float32, backward, optimiser step) in a dispose scope.</summary>
    internal static void Step(nn.Module<Tensor, Tensor> model, optim.Optimizer optimizer, Tensor images, Tensor labels)
    {
        using var scope = NewDisposeScope();
        optimizer.zero_grad();
        var loss = nn.functional.cross_entropy(model.forward(images).to(float32), labels);
        loss.backward();
        optimizer.step();
    }
}

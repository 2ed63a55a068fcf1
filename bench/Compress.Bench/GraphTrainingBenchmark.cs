using System.Globalization;
using Compress.Engine.Models;
using static TorchSharp.torch;

namespace Compress.Bench;

/// <summary>
/// Training throughput of the graph-executed resnet18-cifar (<see cref="ModelFactory"/>, <see cref="ClassifierModel"/>
/// running its <c>ModelGraph</c>) against the hand-written module it replaced (<see cref="HandWrittenResNet18Cifar"/>),
/// at the same width and from the same weights (the graph model's state dict copied into the hand-written one), batch
/// 64, side by side (<see cref="TrainingComparison"/>). Options: <c>--width</c> (0.5), <c>--rounds</c> (5),
/// <c>--steps</c> (10 per model per round), <c>--seed</c> (0). Exit code 1 when the first-step losses differ.
/// </summary>
internal static class GraphTrainingBenchmark
{
    public static int Run(string[] args)
    {
        double width = BenchOptions.Number(args, "--width", 0.5);
        int rounds = BenchOptions.Integer(args, "--rounds", 5);
        int steps = BenchOptions.Integer(args, "--steps", 10);
        int seed = BenchOptions.Integer(args, "--seed", 0);
        const int batch = 64;

        manual_seed(seed);
        using var graph = ModelFactory.Create(new ModelOptions { Architecture = "resnet18-cifar", WidthMultiplier = width });
        using var handWritten = new HandWrittenResNet18Cifar(width, graph.Options.Classes);
        int tensors = TrainingComparison.CopyState(graph, handWritten);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"resnet18-cifar at width {width:R}: {tensors} state tensors copied from the graph model into the hand-written one (same keys, same parameter order)."));
        return TrainingComparison.Run(
            string.Create(CultureInfo.InvariantCulture, $"Training throughput, graph vs hand-written: resnet18-cifar width {width:R}"),
            ("graph (ClassifierModel)", graph), ("hand-written module", handWritten), batch, graph.Options.Classes, rounds, steps, seed);
    }
}

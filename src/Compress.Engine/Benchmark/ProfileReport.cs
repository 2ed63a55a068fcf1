using Compress.Engine.Models;

namespace Compress.Engine.Benchmark;

/// <summary>
/// What <c>compress profile</c> prints (its <c>--json</c> object): a model's per-image MACs, parameters and bytes, per
/// layer and in total, and optionally its TorchSharp latency. Built from a loaded <see cref="ClassifierModel"/> by
/// <see cref="Create"/>, so any transformation that yields a model (e.g. a channel prune) can be profiled the same way.
/// </summary>
public sealed record ProfileReport
{
    /// <summary>Architecture name, e.g. <c>vgg-cifar</c>.</summary>
    public required string Model { get; init; }

    /// <summary>Multiply-accumulates per image (<see cref="ModelProfiler"/>'s rules).</summary>
    public required long Macs { get; init; }

    /// <summary>Trainable parameters (weights and biases).</summary>
    public required long Parameters { get; init; }

    /// <summary>Parameters as float32 bytes (4 each), the lab's model size.</summary>
    public required long Bytes { get; init; }

    /// <summary>Float32 bytes of everything inference reads: parameters plus BatchNorm running statistics.</summary>
    public required long StateBytes { get; init; }

    /// <summary>Forward latency at batch 1 in milliseconds (<see cref="TorchLatency"/>); null when not measured.</summary>
    public LatencyStats? LatencyMs { get; init; }

    /// <summary>The device the model was on (and timed on): <c>cpu</c> or <c>cuda</c>.</summary>
    public required string Device { get; init; }

    /// <summary>The width multiplier the architecture was built with (the weights may be narrower).</summary>
    public required double WidthMultiplier { get; init; }

    /// <summary>Output classes the architecture was built with.</summary>
    public required int Classes { get; init; }

    /// <summary>The input profiled, <c>[C, H, W]</c> (batch 1).</summary>
    public required IReadOnlyList<long> InputShape { get; init; }

    /// <summary>One entry per graph node, in graph order.</summary>
    public required IReadOnlyList<LayerProfile> Layers { get; init; }

    /// <summary>
    /// Profiles <paramref name="model"/> (<see cref="ModelProfiler.Profile(ClassifierModel)"/>) and, when
    /// <paramref name="latency"/> is given, times it with <see cref="TorchLatency.Measure"/>.
    /// </summary>
    public static ProfileReport Create(ClassifierModel model, TorchLatencyOptions? latency = null, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        var profile = ModelProfiler.Profile(model);
        var device = model.parameters().FirstOrDefault()?.device ?? TorchSharp.torch.CPU;
        return new ProfileReport
        {
            Model = model.Options.Architecture,
            Macs = profile.Macs,
            Parameters = profile.Parameters,
            Bytes = profile.ParameterBytes,
            StateBytes = profile.StateBytes,
            LatencyMs = latency is null ? null : TorchLatency.Measure(model, latency, ct),
            Device = device.type.ToString().ToLowerInvariant(),
            WidthMultiplier = model.Options.WidthMultiplier,
            Classes = model.Options.Classes,
            InputShape = profile.InputShape,
            Layers = profile.Layers,
        };
    }
}

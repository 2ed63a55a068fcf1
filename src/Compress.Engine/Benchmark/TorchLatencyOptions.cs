namespace Compress.Engine.Benchmark;

/// <summary>How <see cref="TorchLatency.Measure"/> times a model.</summary>
public sealed record TorchLatencyOptions
{
    /// <summary>Untimed forwards before timing, so allocators, caches and (on CUDA) kernels settle. Default 10.</summary>
    public int Warmup { get; init; } = 10;

    /// <summary>Timed forwards; the percentiles are taken over them. Default 100.</summary>
    public int Runs { get; init; } = 100;
}

using Compress.Engine.Runtime;

namespace Compress.Engine.Pipeline;

/// <summary>Settings every job shares: device, threads and seed.</summary>
public sealed record RunOptions
{
    /// <summary>Where tensors live (default CPU).</summary>
    public DeviceKind Device { get; init; } = DeviceKind.Cpu;

    /// <summary>libtorch intra-op threads; 0 keeps libtorch's default (one per core).</summary>
    public int Threads { get; init; }

    /// <summary>Seed for model initialisation, shuffling and augmentation (default 0).</summary>
    public int Seed { get; init; }
}

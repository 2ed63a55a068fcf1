namespace Compress.Engine.Data;

/// <summary>
/// What the built-in synthetic dataset looks like. Same options, same bytes: the generator draws only from
/// <see cref="Seed"/>, so runs, tests and benchmarks can rely on identical data without downloading CIFAR-10.
/// </summary>
public sealed record SyntheticDataOptions
{
    /// <summary>Seed of every random choice (labels, shapes, colours, noise). Default 0.</summary>
    public int Seed { get; init; }

    /// <summary>
    /// Training images. Default 10,000: enough for a small CIFAR ResNet to pass 90% test accuracy in a few CPU epochs.
    /// </summary>
    public int TrainCount { get; init; } = 10_000;

    /// <summary>Test images. Default 2,000 (200 per class): accuracy resolves to 0.05%.</summary>
    public int TestCount { get; init; } = 2_000;

    /// <summary>
    /// Folder the generated CIFAR-10 binary files are written to and reused from. Default null: a folder under the
    /// system temp directory named by a hash of the options and <see cref="SyntheticImages.GeneratorVersion"/>.
    /// </summary>
    public string? CacheDirectory { get; init; }
}

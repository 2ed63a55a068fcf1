namespace Compress.Engine.Models;

/// <summary>Which built-in model to create and how big; validated by <see cref="ModelFactory.Create"/>.</summary>
public sealed record ModelOptions
{
    /// <summary>One of <see cref="ModelFactory.Architectures"/> (case-insensitive). Default <c>resnet18-cifar</c>, the
    /// paper's reference system.</summary>
    public string Architecture { get; init; } = "resnet18-cifar";

    /// <summary>
    /// Scales every channel count (and LeNet-5's hidden widths): <c>c' = max(1, round(c * w))</c>, rounding half to
    /// even. Default 1.0 (the published sizes); small values give tiny models for tests. Must be finite and &gt; 0.
    /// </summary>
    public double WidthMultiplier { get; init; } = 1.0;

    /// <summary>Number of output classes (logits). Default 10 (CIFAR-10, MNIST). Must be at least 2.</summary>
    public int Classes { get; init; } = 10;
}

namespace Compress.Engine.Training;

/// <summary>Stochastic gradient descent settings.</summary>
public sealed record SgdOptions
{
    /// <summary>Learning rate (default 0.1, a usual CIFAR baseline value).</summary>
    public double LearningRate { get; init; } = 0.1;

    /// <summary>Momentum (default 0.9).</summary>
    public double Momentum { get; init; } = 0.9;

    /// <summary>L2 weight decay (default 5e-4).</summary>
    public double WeightDecay { get; init; } = 5e-4;

    /// <summary>Nesterov momentum (default off).</summary>
    public bool Nesterov { get; init; }
}

using Compress.Engine.Training;

namespace Compress.Engine.Pipeline;

/// <summary>Result of <see cref="TrainJob"/>: test accuracy (percent) and loss after training, per-epoch figures.</summary>
public sealed record TrainResult(string Model, double Accuracy, double Loss, TrainingResult Training, long Parameters,
    string? Output)
{
    /// <summary>Fraction of the parameters that are exactly zero after training.</summary>
    public double Sparsity { get; init; }

    /// <summary>Dynamic pruning: every mask update (step, sparsity asked, weights that came back); null without it.</summary>
    public IReadOnlyList<MaskUpdate>? MaskUpdates { get; init; }
}

/// <summary>One mask update of dynamic pruning.</summary>
/// <param name="Step">Training step.</param>
/// <param name="Sparsity">Sparsity of the weights in scope asked at that step.</param>
/// <param name="Revived">Weights masked before the update and kept after it.</param>
public sealed record MaskUpdate(long Step, double Sparsity, long Revived);

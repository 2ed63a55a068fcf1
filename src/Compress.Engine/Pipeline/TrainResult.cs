using Compress.Engine.Training;

namespace Compress.Engine.Pipeline;

/// <summary>Result of <see cref="TrainJob"/>: test accuracy (percent) and loss after training, per-epoch figures.</summary>
public sealed record TrainResult(string Model, double Accuracy, double Loss, TrainingResult Training, long Parameters,
    string? Output)
{
    /// <summary>Fraction of the parameters that are exactly zero after training.</summary>
    public double Sparsity { get; init; }

    /// <summary>Dynamic pruning: what it did (per update and per epoch); null without it.</summary>
    public Pruning.Dynamic.DynamicPruningReport? Dynamic { get; init; }

    /// <summary>Filter dynamic pruning: the compaction plan (channels kept per group); null otherwise.</summary>
    public IReadOnlyList<Pruning.Channels.ChannelPlanEntry>? ChannelGroups { get; init; }
}

using Compress.Engine.Training;

namespace Compress.Engine.Pipeline;

/// <summary>Result of <see cref="TrainJob"/>: test accuracy (percent) and loss after training, per-epoch figures.</summary>
public sealed record TrainResult(string Model, double Accuracy, double Loss, TrainingResult Training, long Parameters,
    string? Output);

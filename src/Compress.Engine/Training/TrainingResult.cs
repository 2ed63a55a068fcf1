namespace Compress.Engine.Training;

/// <summary>What a training run measured, epoch by epoch.</summary>
public sealed record TrainingResult(IReadOnlyList<EpochResult> Epochs, double Seconds)
{
    /// <summary>Mean images per second over all epochs (0 when nothing was trained).</summary>
    public double ImagesPerSecond => Epochs.Count == 0 ? 0 : Epochs.Average(e => e.ImagesPerSecond);
}

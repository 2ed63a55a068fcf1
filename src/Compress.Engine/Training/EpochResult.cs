namespace Compress.Engine.Training;

/// <summary>What one training epoch measured.</summary>
/// <param name="Epoch">1-based epoch number.</param>
/// <param name="TrainLoss">Mean cross-entropy over the epoch's images.</param>
/// <param name="TrainAccuracy">Top-1 accuracy on the (augmented) training batches, percent.</param>
/// <param name="ImagesPerSecond">Throughput of the epoch (forward, backward, step, mask).</param>
/// <param name="Seconds">Wall time of the epoch.</param>
/// <param name="LearningRate">Learning rate at the end of the epoch.</param>
public sealed record EpochResult(int Epoch, double TrainLoss, double TrainAccuracy, double ImagesPerSecond, double Seconds,
    double LearningRate);

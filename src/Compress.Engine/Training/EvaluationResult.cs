namespace Compress.Engine.Training;

/// <summary>Top-1 accuracy (percent) and mean cross-entropy loss on a split.</summary>
public sealed record EvaluationResult(double Accuracy, double Loss, int Count);

namespace Compress.Engine.Pipeline;

/// <summary>Result of <see cref="EvaluateJob"/>.</summary>
public sealed record EvaluateResult(string Model, double Accuracy, double Loss, int Images, long Parameters, double Sparsity);

namespace Compress.Engine.Pipeline;

/// <summary>Result of <see cref="MainJob"/>: the baseline training (null when weights were given) and the prune run.</summary>
public sealed record MainResult(TrainResult? Baseline, PruneResult Prune, string OutputDirectory);

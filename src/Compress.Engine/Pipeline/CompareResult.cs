namespace Compress.Engine.Pipeline;

/// <summary>What <see cref="CompareJob"/> measured: the baseline, and one cell per criterion x scope x fraction.</summary>
/// <param name="Model">The model (architecture or ONNX path).</param>
/// <param name="BaselineAccuracy">Top-1 test accuracy of the unpruned model, percent.</param>
/// <param name="Parameters">Trainable parameters of the model.</param>
/// <param name="Cells">Every cell, in grid order (criterion, scope, fraction).</param>
/// <param name="Json">Where the result was written.</param>
/// <param name="Plot">Where the plot was written.</param>
/// <param name="Granularity"><c>unstructured</c> or <c>channel</c>.</param>
/// <param name="SpeedupPlot">Channel granularity: the plot of accuracy against measured speedup; null otherwise.</param>
public sealed record CompareResult(string Model, double BaselineAccuracy, long Parameters, IReadOnlyList<CompareCell> Cells,
    string Json, string Plot, string Granularity = "unstructured", string? SpeedupPlot = null);

/// <summary>One pruned and fine-tuned copy of the baseline.</summary>
/// <param name="Criterion">The criterion's name.</param>
/// <param name="Scope"><c>global</c> or <c>layer</c>.</param>
/// <param name="Fraction">The fraction of the weights in scope removed.</param>
/// <param name="CompressionRatio">Parameters / nonzero parameters of the whole model after fine-tuning (ShrinkBench's
/// compression ratio).</param>
/// <param name="Nonzero">Nonzero parameters after fine-tuning.</param>
/// <param name="AccuracyPruned">Test accuracy right after pruning, percent.</param>
/// <param name="AccuracyFineTuned">Test accuracy after fine-tuning with the mask held, percent.</param>
/// <param name="Seconds">Time the cell took when it was computed.</param>
/// <param name="Cached">Whether the cell was read from an earlier run's cache instead of computed now.</param>
/// <param name="MacsRatio">Channel granularity: MACs before / after; null for unstructured pruning (zeros save no MACs).</param>
/// <param name="Speedup">Channel granularity: ONNX Runtime batch-1 p50 latency before / after, the two timed alternately;
/// null for unstructured pruning.</param>
/// <param name="Scratch">With <c>--scratch</c>: the same mask or pruned architecture trained from a fresh initialisation
/// instead, and the weight-value histograms of both; null otherwise.</param>
public sealed record CompareCell(string Criterion, string Scope, double Fraction, double CompressionRatio, long Nonzero,
    double AccuracyPruned, double AccuracyFineTuned, double Seconds, bool Cached, double? MacsRatio = null, double? Speedup = null,
    ScratchComparison? Scratch = null);

/// <summary>Fine-tuned against trained-from-scratch, for one cell.</summary>
/// <param name="Epochs">Epochs of the scratch training (<see cref="Training.TrainingOptions.CifarBaseline"/>'s recipe).</param>
/// <param name="Accuracy">Test accuracy of the scratch-trained model, percent.</param>
/// <param name="Edges">Histogram bin edges (the nonzero conv and linear weights of both models share them).</param>
/// <param name="FineTuned">Counts per bin of the fine-tuned model's nonzero weights.</param>
/// <param name="FromScratch">Counts per bin of the scratch-trained model's nonzero weights.</param>
public sealed record ScratchComparison(int Epochs, double Accuracy, IReadOnlyList<double> Edges, IReadOnlyList<long> FineTuned,
    IReadOnlyList<long> FromScratch);

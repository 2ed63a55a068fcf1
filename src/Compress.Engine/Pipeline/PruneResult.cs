using Compress.Engine.Analysis;
using Compress.Engine.Training;

namespace Compress.Engine.Pipeline;

/// <summary>Result of <see cref="PruneJob"/>. Accuracies are top-1 percent on the test split.</summary>
public sealed record PruneResult
{
    public required string Model { get; init; }
    /// <summary>The prune rate applied.</summary>
    public required double Rate { get; init; }
    /// <summary><c>knee</c>, <c>safe</c> or <c>explicit</c>.</summary>
    public required string RateSource { get; init; }
    public required PruneAnalysis Analysis { get; init; }
    public required long Parameters { get; init; }
    public required long PrunedCount { get; init; }
    /// <summary>Fraction of parameters that are exactly zero after fine-tuning.</summary>
    public required double Sparsity { get; init; }
    public required double AccuracyBefore { get; init; }
    public required double AccuracyAfterPrune { get; init; }
    public required double AccuracyAfterFinetune { get; init; }
    public required double LossBefore { get; init; }
    public required double LossAfterPrune { get; init; }
    public required double LossAfterFinetune { get; init; }
    public required TrainingResult FineTune { get; init; }
    /// <summary>Seconds per phase.</summary>
    public required IReadOnlyDictionary<string, double> Seconds { get; init; }
    public string? Output { get; init; }
    /// <summary>The verified ONNX artifact, when one was asked for.</summary>
    public ExportResult? Export { get; init; }
    /// <summary>Top-1 accuracy of the written ONNX artifact in ONNX Runtime on the same split, when one was written.</summary>
    public double? AccuracyOnnx { get; init; }
    /// <summary>How the model was pruned.</summary>
    public Pruning.PruneMethod Method { get; init; }
    /// <summary>Parameters of the unpruned model (differs from <see cref="Parameters"/> after channel pruning).</summary>
    public long ParametersBefore { get; init; }
    /// <summary>Channel method: every channel group, with its channels before and after and why it was not pruned.</summary>
    public IReadOnlyList<Pruning.Channels.PrunedChannelGroup>? ChannelGroups { get; init; }
    /// <summary>Dynamic method: what it did per mask update and per epoch.</summary>
    public Pruning.Dynamic.DynamicPruningReport? Dynamic { get; init; }
    /// <summary>Unpruned against pruned in ONNX Runtime (MACs, parameters, latency), when asked for.</summary>
    public StructureComparison? Comparison { get; init; }
    /// <summary>Layerwise method: the sparsity applied per weight.</summary>
    public IReadOnlyDictionary<string, double>? LayerSparsity { get; init; }
    /// <summary>Layerwise method with a sensitivity scan: the proposal (per layer: sparsity, accuracy, why).</summary>
    public Pruning.FineGrained.SparsityProposalResult? Proposal { get; init; }

    /// <summary>Layerwise method with a sensitivity scan: the scan (accuracy of each layer pruned alone per sparsity).</summary>
    public Pruning.FineGrained.SensitivityResult? Sensitivity { get; init; }

    /// <summary>The input contract of the run (written into the artifact's metadata).</summary>
    public Data.Preprocessing? Preprocessing { get; init; }

    /// <summary>For an imported ONNX model: the file, its trainable and kept tensors and its constants.</summary>
    public Models.Onnx.ImportSummary? Import { get; init; }
}

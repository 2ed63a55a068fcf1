using Compress.Engine.Reporting;

namespace Compress.Engine.Pruning.FineGrained;

/// <summary>
/// What <see cref="SensitivityScan.Run"/> measured: the dense model's accuracy and, per layer, accuracy against that
/// layer's sparsity. The input of <see cref="SparsityProposal.Propose"/> and of the sensitivity plot; serialised as
/// camelCase JSON by <see cref="WriteJson"/>.
/// </summary>
public sealed record SensitivityResult
{
    /// <summary>The architecture, when the scan ran as a job (<see cref="SensitivityJob"/>); null otherwise.</summary>
    public string? Model { get; init; }

    /// <summary>Top-1 accuracy (percent) of the unpruned model on the scan's images.</summary>
    public required double DenseAccuracy { get; init; }

    /// <summary>Mean cross-entropy of the unpruned model on the scan's images.</summary>
    public required double DenseLoss { get; init; }

    /// <summary>Images every evaluation used.</summary>
    public required int Images { get; init; }

    /// <summary>The scanned sparsities, ascending.</summary>
    public required IReadOnlyList<double> Sparsities { get; init; }

    /// <summary>
    /// Every parameter of the model (pruned or not, biases and BatchNorm included): the "model size" a
    /// <see cref="SparsityProposal"/> target refers to.
    /// </summary>
    public required long ModelParameterCount { get; init; }

    /// <summary>The scanned layers, in module order.</summary>
    public required IReadOnlyList<LayerSensitivity> Layers { get; init; }

    /// <summary>Wall-clock seconds the scan took (dense evaluation included).</summary>
    public double Seconds { get; init; }

    /// <summary>Writes this result as JSON (camelCase, indented) through a temporary file; CMP0004 on failure.</summary>
    public void WriteJson(string path) => JsonOutput.WriteFile(path, this);
}

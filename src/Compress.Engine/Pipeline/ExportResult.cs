namespace Compress.Engine.Pipeline;

/// <summary>Result of <see cref="ExportJob"/>.</summary>
/// <param name="Output">Full path of the written ONNX file.</param>
/// <param name="FileBytes">Its size in bytes.</param>
/// <param name="Parameters">Scalar parameters of the exported model (weights and biases, before folding).</param>
/// <param name="MaxRelativeDifference">Parity of ONNX Runtime against TorchSharp (see <see cref="Export.ParityResult"/>).</param>
/// <param name="MaxAbsoluteDifference">The absolute difference behind it.</param>
/// <param name="Opset">ONNX opset written.</param>
/// <param name="FoldedBatchNorm">Whether BatchNorm was folded into the convolutions.</param>
public sealed record ExportResult(string Output, long FileBytes, long Parameters, double MaxRelativeDifference,
    double MaxAbsoluteDifference, int Opset, bool FoldedBatchNorm)
{
    /// <summary>Multiply-accumulates per image of the written graph.</summary>
    public long Macs { get; init; }

    /// <summary>What compaction removed; null when compaction was not asked for.</summary>
    public CompactionSummary? Compaction { get; init; }
}

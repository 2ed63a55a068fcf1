namespace Compress.Engine.Export;

/// <summary>
/// How closely ONNX Runtime's logits match the TorchSharp model's on one seeded random batch.
/// </summary>
/// <param name="Batch">Images in the batch.</param>
/// <param name="MaxAbsoluteDifference">max |onnx - torch| over all logits.</param>
/// <param name="MaxReference">max |torch| over all logits (the scale the difference is relative to).</param>
/// <param name="MaxRelativeDifference"><c>MaxAbsoluteDifference / max(MaxReference, 1e-6)</c>.</param>
public sealed record ParityResult(int Batch, double MaxAbsoluteDifference, double MaxReference, double MaxRelativeDifference);

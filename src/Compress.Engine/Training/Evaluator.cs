using Compress.Engine.Data;
using Compress.Engine.Diagnostics;
using TorchSharp;
using static TorchSharp.torch;

namespace Compress.Engine.Training;

/// <summary>Top-1 accuracy and mean cross-entropy of a classifier on a split, in eval mode without gradients.</summary>
public static class Evaluator
{
    /// <summary>Evaluates <paramref name="model"/> on every image of <paramref name="data"/>.</summary>
    public static EvaluationResult Evaluate(nn.Module<Tensor, Tensor> model, IImageDataset data, Normalization normalization,
        Device device, int batchSize = 256, IDiagnosticSink? sink = null, string phase = "evaluate",
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(data);
        model.to(device);
        model.eval();
        using var loader = new BatchLoader(data, new LoaderOptions { BatchSize = batchSize, Normalization = normalization }, device);
        var meter = new ProgressMeter(sink ?? DiagnosticSinks.None, phase, loader.BatchesPerEpoch);
        double lossSum = 0;
        long correct = 0, seen = 0;
        int step = 0;
        using (no_grad())
        {
            foreach (var batch in loader.Epoch(0))
            {
                using var owned = batch;
                cancellationToken.ThrowIfCancellationRequested();
                using var scope = NewDisposeScope();
                var logits = model.forward(batch.Images);
                lossSum += nn.functional.cross_entropy(logits, batch.Labels, reduction: nn.Reduction.Sum).item<float>();
                correct += logits.argmax(1).eq(batch.Labels).sum().item<long>();
                seen += batch.Count;
                meter.Step(++step, batch.Count);
            }
        }
        return new EvaluationResult(100.0 * correct / Math.Max(seen, 1), lossSum / Math.Max(seen, 1), (int)seen);
    }
}

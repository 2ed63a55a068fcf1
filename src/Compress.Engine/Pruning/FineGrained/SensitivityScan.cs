using System.Diagnostics;
using System.Globalization;
using System.Text;
using Compress.Engine.Data;
using Compress.Engine.Diagnostics;
using Compress.Engine.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Compress.Engine.Pruning.FineGrained;

/// <summary>
/// The EfficientML.ai lab's <c>sensitivity_scan</c>: prune one layer at a time (fine-grained, on its own magnitudes)
/// at each scanned sparsity, measure test accuracy with the others dense, and put the layer back. Which layers lose
/// accuracy fast shows where a per-layer sparsity (<see cref="SparsityProposal"/>) must stay low.
/// </summary>
public static class SensitivityScan
{
    /// <summary>
    /// Scans <paramref name="model"/> on <paramref name="testData"/> (normalised with <paramref name="normalization"/>,
    /// evaluated on <paramref name="device"/> with <see cref="Evaluator"/>). Each layer's weight is saved as a clone
    /// before its first pruning and copied back after every evaluation (also when cancelled or failing), so the model
    /// ends bit-identical to how it started, training mode included. One progress line per layer goes to
    /// <paramref name="sink"/>. Throws CMP0750 for an unknown layer, CMP0751/CMP0754 for bad options, CMP0107 for
    /// non-finite weights, and <see cref="OperationCanceledException"/> when cancelled.
    /// </summary>
    public static SensitivityResult Run(nn.Module<Tensor, Tensor> model, IImageDataset testData, Normalization normalization,
        Device device, SensitivityOptions? options = null, IDiagnosticSink? sink = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(testData);
        ArgumentNullException.ThrowIfNull(normalization);
        options ??= new SensitivityOptions();
        sink ??= DiagnosticSinks.None;
        options.Validate();
        double[] sparsities = options.SortedSparsities();
        var names = options.Layers ?? LayerwiseMagnitudePruner.PrunableParameters(model);
        var duplicate = names.GroupBy(n => n, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
            throw new CompressException(DiagnosticCode.InvalidSensitivityOption, $"Layer '{duplicate.Key}' is listed twice.");
        // Validates every name before anything runs; the tensors are looked up again after the model moved to the device.
        LayerwiseMagnitudePruner.Resolve(model, names);

        var data = options.MaxBatches is int max ? new FirstImagesDataset(testData, (int)Math.Min((long)max * options.BatchSize, int.MaxValue)) : testData;
        bool wasTraining = model.training;
        var clock = Stopwatch.StartNew();
        try
        {
            var dense = Evaluator.Evaluate(model, data, normalization, device, options.BatchSize, cancellationToken: cancellationToken);
            sink.Progress(Invariant($"sensitivity: dense accuracy {dense.Accuracy:F2}% on {dense.Count} images; {names.Count} layers x {sparsities.Length} sparsities"));
            var parameters = LayerwiseMagnitudePruner.Resolve(model, names);
            long modelParameters = model.parameters().Sum(p => p.numel());
            var layers = new List<LayerSensitivity>(names.Count);
            for (int i = 0; i < names.Count; i++)
            {
                var layer = ScanLayer(model, names[i], parameters[names[i]], sparsities, data, normalization, device, options.BatchSize,
                    cancellationToken);
                layers.Add(layer);
                sink.Progress(Describe(i + 1, names.Count, layer));
            }
            return new SensitivityResult
            {
                DenseAccuracy = dense.Accuracy,
                DenseLoss = dense.Loss,
                Images = dense.Count,
                Sparsities = sparsities,
                ModelParameterCount = modelParameters,
                Layers = layers,
                Seconds = clock.Elapsed.TotalSeconds,
            };
        }
        finally
        {
            model.train(wasTraining);
        }
    }

    private static LayerSensitivity ScanLayer(nn.Module<Tensor, Tensor> model, string name, Tensor weight, double[] sparsities,
        IImageDataset data, Normalization normalization, Device device, int batchSize, CancellationToken cancellationToken)
    {
        var points = new List<SensitivityPoint>(sparsities.Length);
        Tensor saved;
        using (no_grad()) saved = weight.detach().clone();
        using (saved)
        {
            foreach (double sparsity in sparsities)
            {
                cancellationToken.ThrowIfCancellationRequested();
                long pruned;
                try
                {
                    using (var scope = NewDisposeScope())
                    using (no_grad())
                    using (var zero = 0.ToScalar())
                    {
                        var kept = LayerwiseMagnitudePruner.KeptMask(name, weight, sparsity);
                        pruned = weight.numel() - kept.sum().item<long>();
                        weight.masked_fill_(kept.logical_not(), zero);
                    }
                    var evaluation = Evaluator.Evaluate(model, data, normalization, device, batchSize, cancellationToken: cancellationToken);
                    points.Add(new SensitivityPoint(sparsity, pruned, evaluation.Accuracy, evaluation.Loss));
                }
                finally
                {
                    using (no_grad()) weight.copy_(saved);
                }
            }
        }
        return new LayerSensitivity(name, [.. weight.shape], weight.numel(), points);
    }

    private static string Describe(int index, int count, LayerSensitivity layer)
    {
        var sb = new StringBuilder();
        sb.Append(Invariant($"sensitivity [{index}/{count}] {layer.Name} ({layer.ParameterCount:N0}):"));
        foreach (var p in layer.Points) sb.Append(Invariant($" {p.Sparsity:0.##}->{p.Accuracy:F2}%"));
        return sb.ToString();
    }

    private static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}

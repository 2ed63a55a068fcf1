using Compress.Engine.Data;
using Compress.Engine.Models;
using Compress.Engine.Pruning.FineGrained;
using static TorchSharp.torch;

namespace Compress.Engine.Pruning.Importance;

/// <summary>
/// Gradients for <see cref="GradientMagnitudeImportance"/>: the gradient of the mean cross-entropy over the first
/// images of the training split, in file order (no shuffling, no augmentation), from a training-mode forward and
/// backward (BatchNorm normalises with batch statistics, as when training). BatchNorm running statistics and every
/// other buffer are saved and restored around it, existing gradients are left as they were, and the model's mode is
/// restored: collecting changes nothing in the model.
/// </summary>
public static class GradientCollector
{
    /// <summary>Default number of training images (ShrinkBench's one batch of 128).</summary>
    public const int DefaultImages = 128;

    /// <summary>
    /// The gradients of <paramref name="names"/> (float64 copies, owned by the caller) over the first
    /// <paramref name="images"/> images of <paramref name="train"/>, in batches of at most <paramref name="batchSize"/>.
    /// </summary>
    public static Dictionary<string, Tensor> Collect(ClassifierModel model, IImageDataset train, Normalization normalization,
        Device device, IReadOnlyCollection<string> names, int images = DefaultImages, int batchSize = 128)
    {
        ArgumentNullException.ThrowIfNull(train);
        var first = new FirstImagesDataset(train, Math.Max(1, images));
        using var loader = new BatchLoader(first, new LoaderOptions { BatchSize = Math.Max(1, batchSize), Normalization = normalization }, device);
        var batches = new List<(Tensor, Tensor)>();
        try
        {
            foreach (var batch in loader.Epoch(0))
            {
                batches.Add((batch.Images.detach().clone(), batch.Labels.detach().clone()));
                batch.Dispose();
            }
            return Collect(model, batches, names);
        }
        finally
        {
            foreach (var (x, y) in batches)
            {
                x.Dispose();
                y.Dispose();
            }
        }
    }

    /// <summary>
    /// The gradients of <paramref name="names"/> for the mean cross-entropy over all of <paramref name="batches"/>
    /// (images, labels), each batch weighted by its size.
    /// </summary>
    public static Dictionary<string, Tensor> Collect(ClassifierModel model, IReadOnlyList<(Tensor Images, Tensor Labels)> batches,
        IReadOnlyCollection<string> names)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(batches);
        ArgumentNullException.ThrowIfNull(names);
        var parameters = model.named_parameters().ToDictionary(p => p.name, p => p.parameter, StringComparer.Ordinal);
        var savedGradients = parameters.ToDictionary(p => p.Key, p => p.Value.grad?.detach().clone(), StringComparer.Ordinal);
        var savedBuffers = model.named_buffers().Select(b => (b.buffer, copy: b.buffer.detach().clone())).ToList();
        bool training = model.training;
        long total = batches.Sum(b => b.Images.shape[0]);
        try
        {
            foreach (var p in parameters.Values) p.grad = null;
            model.train();
            foreach (var (images, labels) in batches)
            {
                using var scope = NewDisposeScope();
                var logits = model.call(images);
                var loss = nn.functional.cross_entropy(logits, labels).mul((double)images.shape[0] / total);
                loss.backward();
            }
            var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
            foreach (string name in names)
            {
                var parameter = parameters[name];
                result[name] = parameter.grad is { } g ? g.detach().to(ScalarType.Float64).clone() : zeros_like(parameter, dtype: ScalarType.Float64);
            }
            return result;
        }
        finally
        {
            using (no_grad())
            {
                foreach (var (buffer, copy) in savedBuffers)
                {
                    buffer.copy_(copy);
                    copy.Dispose();
                }
            }
            foreach (var (name, p) in parameters)
            {
                p.grad?.Dispose();
                p.grad = savedGradients[name];
            }
            if (training) model.train();
            else model.eval();
        }
    }
}

using System.Globalization;
using Compress.Engine.Benchmark;
using Compress.Engine.Models;
using Compress.Engine.Models.Graph;
using static TorchSharp.torch;

namespace Compress.Engine.Training;

/// <summary>
/// Channels-last training for TorchSharp 0.107, which has no <c>memory_format</c> argument: a
/// <c>permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2)</c> gives a tensor of the same NCHW shape and values whose
/// memory is NHWC, and libtorch's oneDNN convolutions (forward and backward) keep that layout through the network.
/// <para>Measured (docs/benchmarks.md, "Training speed on the CPU"): on resnet18-cifar a training step is 1.08-1.32x
/// faster at widths 1 and 0.25 and slower at width 0.125 (0.86x) and 0.0625 (0.52x). <see cref="Decide"/> turns that
/// into a rule on the model's own layers.</para>
/// </summary>
public static class ChannelsLastLayout
{
    /// <summary>
    /// The smallest MAC-weighted mean output-channel count of a model's convolutions for which
    /// <see cref="MemoryFormat.Auto"/> picks channels-last (resnet18-cifar at width 0.25 has 58, at width 0.125 has 29).
    /// </summary>
    public const double MinimumMeanChannels = 48;

    /// <summary>
    /// The fewest input channels a 1x1 convolution with stride above 1 may have for channels-last training: oneDNN's
    /// channels-last weight-gradient kernel for such layers (jit 1x1 with "reduce to unit stride") computes wrong values,
    /// hangs or corrupts the heap when the input channels are fewer than its channel block, 8 with AVX2 and 16 with
    /// AVX-512 (oneDNN issue #6035; <c>bench channels-last-check</c> reproduces all three here with libtorch 2.x). 16 covers
    /// both.
    /// </summary>
    public const int MinimumStridedPointwiseChannels = 16;

    /// <summary>
    /// Whether to train <paramref name="model"/> channels-last under <paramref name="format"/>, why in words (shown once
    /// per training run), and a layer that rules it out, if any. <see cref="MemoryFormat.Auto"/> measures the model's
    /// convolutions: the mean output-channel count, each convolution weighted by its multiply-accumulates per image, at
    /// least <see cref="MinimumMeanChannels"/>. A model without a graph (not a <see cref="ClassifierModel"/>) or without
    /// convolutions stays NCHW. Neither auto nor an explicit <see cref="MemoryFormat.ChannelsLast"/> trains channels-last
    /// when a layer is unsafe for it (<see cref="UnsafeLayer"/>).
    /// </summary>
    public static (bool ChannelsLast, string Why, string? UnsafeLayer) Decide(nn.Module model, MemoryFormat format)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (format == MemoryFormat.Nchw) return (false, "NCHW (asked for)", null);
        string? unsafeLayer = UnsafeLayer(model);
        if (format == MemoryFormat.ChannelsLast)
            return unsafeLayer is null ? (true, "channels-last (asked for)", null) : (false, $"NCHW (channels-last was asked for, but {unsafeLayer})", unsafeLayer);
        double? channels = model is ClassifierModel classifier ? MeanChannels(classifier) : null;
        if (channels is not double mean) return (false, "NCHW (auto: no convolutions to measure)", null);
        bool wide = mean >= MinimumMeanChannels;
        string measured = string.Create(CultureInfo.InvariantCulture,
            $"the convolutions average {mean:F0} output channels, weighted by MACs; channels-last from {MinimumMeanChannels:F0}");
        if (wide && unsafeLayer is not null) return (false, $"NCHW (auto: {measured}, but {unsafeLayer})", null);
        return (wide, $"{(wide ? "channels-last" : "NCHW")} (auto: {measured})", null);
    }

    /// <summary>
    /// The first convolution channels-last training must avoid, described, or null: a 1x1 convolution with stride above 1
    /// and fewer than <see cref="MinimumStridedPointwiseChannels"/> input channels. For a model without a graph the
    /// stride is unknown, so any such narrow 1x1 weight counts.
    /// </summary>
    public static string? UnsafeLayer(nn.Module model)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (model is ClassifierModel classifier)
        {
            var shapes = classifier.OrderedStateDict().ToDictionary(e => e.Key, e => e.Value.shape, StringComparer.Ordinal);
            foreach (var conv in classifier.DescribeGraph().Nodes.OfType<ConvNode>())
            {
                if (conv.Stride <= 1 || !shapes.TryGetValue(conv.Module + ".weight", out var w) || w.Length != 4) continue;
                long inputs = w[1] * conv.GroupsOf(w);
                if (w[2] == 1 && w[3] == 1 && inputs < MinimumStridedPointwiseChannels)
                    return Describe(conv.Name, inputs, $"stride {conv.Stride}");
            }
            return null;
        }
        foreach (var (name, parameter) in model.named_parameters())
            if (parameter.dim() == 4 && parameter.shape[2] == 1 && parameter.shape[3] == 1 && parameter.shape[1] < MinimumStridedPointwiseChannels)
                return Describe(name, parameter.shape[1], "stride unknown");
        return null;
    }

    private static string Describe(string layer, long inputs, string stride) => string.Create(CultureInfo.InvariantCulture,
        $"'{layer}' is a 1x1 convolution ({stride}) with {inputs} input channels, fewer than the {MinimumStridedPointwiseChannels} libtorch's channels-last gradient kernel handles correctly (oneDNN issue #6035)");

    /// <summary>The MAC-weighted mean output-channel count of the model's convolutions, or null when it has none.</summary>
    public static double? MeanChannels(ClassifierModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var convolutions = ModelProfiler.Profile(model).Layers.Where(l => l.Kind == "Conv" && l.Macs > 0).ToList();
        long macs = convolutions.Sum(l => l.Macs);
        return macs == 0 ? null : convolutions.Sum(l => (double)l.Macs * l.OutputShape[0]) / macs;
    }

    /// <summary>The same values in NHWC memory order, still shaped NCHW (a new tensor; 4-d only).</summary>
    public static Tensor Of(Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if (tensor.dim() != 4) throw new ArgumentException($"Channels-last needs a 4-d tensor, got {tensor.dim()} dimensions.", nameof(tensor));
        using var nhwc = tensor.permute(0, 2, 3, 1);
        using var packed = nhwc.contiguous();
        return packed.permute(0, 3, 1, 2);
    }

    /// <summary>True when <paramref name="tensor"/> is 4-d and its memory is in NHWC order (a 1x1 kernel or a single
    /// pixel is both NCHW and NHWC).</summary>
    public static bool IsChannelsLast(Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if (tensor.dim() != 4) return false;
        using var nhwc = tensor.permute(0, 2, 3, 1);
        return nhwc.is_contiguous();
    }

    /// <summary>Re-lays every 4-d parameter of <paramref name="model"/> channels-last, in place (same parameter objects).</summary>
    public static void ToChannelsLast(nn.Module model) => Relayout(model, Of);

    /// <summary>Makes every 4-d parameter of <paramref name="model"/> contiguous NCHW again, in place: the exporter, the
    /// checkpoint writers and the statistics read raw storage in NCHW order.</summary>
    public static void ToContiguous(nn.Module model) => Relayout(model, t => t.contiguous());

    private static void Relayout(nn.Module model, Func<Tensor, Tensor> layout)
    {
        ArgumentNullException.ThrowIfNull(model);
        using var _ = no_grad();
        foreach (var (_, parameter) in model.named_parameters())
        {
            if (parameter.dim() != 4) continue;
            using var laid = layout(parameter);
            if (laid.stride().SequenceEqual(parameter.stride())) continue; // already laid out so (1x1 kernels are both)
            parameter.set_(laid);
            // A gradient left from the other layout would be added to the next one element by element anyway, but a
            // stale buffer of the old strides is memory for nothing.
            parameter.grad?.Dispose();
            parameter.grad = null;
        }
    }
}

namespace Compress.Engine.Benchmark;

/// <summary>
/// Per-image cost of a model from <see cref="ModelProfiler"/>: totals and one <see cref="LayerProfile"/> per graph
/// node. Counted from the state-dict shapes, so a physically narrower (channel-pruned) model reports its real cost.
/// </summary>
/// <param name="Macs">Multiply-accumulates per image (batch 1).</param>
/// <param name="Parameters">Trainable elements (weights and biases; equals <c>ClassifierModel.ParameterCount()</c>).</param>
/// <param name="ParameterBytes"><paramref name="Parameters"/> as float32: 4 bytes each. This is what the EfficientML lab
/// calls the model size (it counts parameters only).</param>
/// <param name="StateBytes">Float32 bytes of everything inference reads: parameters plus BatchNorm running mean and
/// variance (the integer <c>num_batches_tracked</c> counters are left out; inference does not read them).</param>
/// <param name="InputShape">The input the profile was taken at, <c>[C, H, W]</c> (batch 1).</param>
/// <param name="Layers">One entry per graph node, in graph order.</param>
public sealed record ModelProfile(long Macs, long Parameters, long ParameterBytes, long StateBytes,
    IReadOnlyList<long> InputShape, IReadOnlyList<LayerProfile> Layers);

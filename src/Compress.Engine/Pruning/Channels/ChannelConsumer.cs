namespace Compress.Engine.Pruning.Channels;

/// <summary>A convolution or linear layer that reads a channel group: its input channels shrink with the group.</summary>
/// <param name="Module">State-dict prefix of the layer, e.g. <c>layer2.0.conv1</c> or <c>fc</c>.</param>
/// <param name="FeaturesPerChannel">Input features each channel occupies in <c>weight[:, ...]</c>: 1 for a
/// convolution or a linear layer after global average pooling, H x W for a linear layer after flattening a feature
/// map (LeNet-5's <c>fc1</c>: 25), channel c being features <c>c*F .. c*F+F-1</c>.</param>
public sealed record ChannelConsumer(string Module, int FeaturesPerChannel);

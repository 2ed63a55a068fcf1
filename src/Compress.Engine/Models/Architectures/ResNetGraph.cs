using System.Globalization;
using Compress.Engine.Models.Graph;

namespace Compress.Engine.Models.Architectures;

/// <summary>
/// ResNet with BasicBlocks and torchvision's key names (<c>conv1</c>, <c>bn1</c>, <c>layer1..N</c>, <c>fc</c>). Three
/// variants (<see cref="ModelFactory"/>):
/// <list type="bullet">
/// <item><c>resnet18</c>: torchvision's ImageNet stem (7x7 stride-2 conv, BN, ReLU, 3x3 stride-2 max-pool),
/// blocks [2,2,2,2] with 64/128/256/512 channels; natural input 3x224x224.</item>
/// <item><c>resnet18-cifar</c>: the same with a 3x3 stride-1 stem conv and no max-pool; input 3x32x32.</item>
/// <item><c>resnet56-cifar</c>: 3x3 stem with 16 channels, blocks [9,9,9] with 16/32/64 channels; input 3x32x32.
/// He et al. used the parameter-free "option A" shortcut for CIFAR; we use "option B" (1x1 conv + BN projection
/// where the shape changes, as torchvision and most pruning code do), so checkpoints keep torchvision's
/// <c>layerN.0.downsample.0/1</c> keys and every shortcut is prunable like any other convolution.</item>
/// </list>
/// A block is conv3x3(stride) - BN - ReLU - conv3x3 - BN, plus the shortcut, then ReLU; convolutions have no bias.
/// After the blocks: global average pooling and a linear layer. Initialisation follows torchvision (Kaiming-normal
/// fan-out convolutions, BN weight 1 and bias 0, PyTorch's default for the linear layer).
/// </summary>
internal static class ResNetGraph
{
    /// <summary>One ResNet variant: its natural input, stem and stages (channel counts before width scaling).</summary>
    /// <param name="Input">The natural input of this variant.</param>
    /// <param name="ImageNetStem">7x7/2 conv + max-pool stem (true) or 3x3/1 conv stem (false).</param>
    /// <param name="StemChannels">Stem channels before width scaling.</param>
    /// <param name="BlocksPerLayer">Blocks in each stage.</param>
    /// <param name="LayerChannels">Channels of each stage before width scaling.</param>
    internal sealed record Config(InputShape Input, bool ImageNetStem, int StemChannels, IReadOnlyList<int> BlocksPerLayer,
        IReadOnlyList<int> LayerChannels);

    /// <summary>The graph of <paramref name="config"/> at <paramref name="options"/>' widths (per-layer widths from
    /// <see cref="ModelOptions.Channels"/>; the shortcut kind always from the unpruned architecture).</summary>
    public static ModelGraph Build(Config config, ModelOptions options)
    {
        double w = options.WidthMultiplier;
        var g = new GraphBuilder();
        long channels = ChannelScaling.Width(options, "conv1", ChannelScaling.Scale(config.StemChannels, w));
        string x = config.ImageNetStem
            ? g.Conv("conv1", g.Input, config.Input.Channels, channels, 7, 2, 3)
            : g.Conv("conv1", g.Input, config.Input.Channels, channels, 3, 1, 1);
        x = g.BatchNorm("bn1", x, channels);
        x = g.Add(new ReluNode("relu", x, "relu"));
        if (config.ImageNetStem) x = g.Add(new MaxPoolNode("maxpool", x, "maxpool", 3, 2, 1));

        int inDefault = ChannelScaling.Scale(config.StemChannels, w);
        for (int i = 0; i < config.BlocksPerLayer.Count; i++)
        {
            int outDefault = ChannelScaling.Scale(config.LayerChannels[i], w);
            for (int b = 0; b < config.BlocksPerLayer[i]; b++)
            {
                int stride = b == 0 && i > 0 ? 2 : 1;
                string p = string.Create(CultureInfo.InvariantCulture, $"layer{i + 1}.{b}.");
                bool downsample = stride != 1 || inDefault != outDefault;
                long mid = ChannelScaling.Width(options, p + "conv1", outDefault);
                long outChannels = ChannelScaling.Width(options, p + "conv2", outDefault);
                string y = g.Conv(p + "conv1", x, channels, mid, 3, stride, 1);
                y = g.BatchNorm(p + "bn1", y, mid);
                y = g.Add(new ReluNode(p + "relu1", y, p + "relu1"));
                y = g.Conv(p + "conv2", y, mid, outChannels, 3, 1, 1);
                y = g.BatchNorm(p + "bn2", y, outChannels);
                string shortcut = x;
                if (downsample)
                {
                    shortcut = g.Conv(p + "downsample.0", x, channels, outChannels, 1, stride, 0);
                    shortcut = g.BatchNorm(p + "downsample.1", shortcut, outChannels);
                }
                y = g.Add(new AddNode(p + "add", y, shortcut, p + "add"));
                x = g.Add(new ReluNode(p + "relu2", y, p + "relu2"));
                channels = outChannels;
                inDefault = outDefault;
            }
        }
        x = g.Add(new GlobalAveragePoolNode("avgpool", x, "avgpool"));
        x = g.Add(new FlattenNode("flatten", x, "flatten"));
        return g.Build(g.Linear("fc", x, channels, options.Classes, output: "logits"));
    }
}

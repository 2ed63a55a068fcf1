using System.Globalization;
using Compress.Engine.Models.Graph;

namespace Compress.Bench;

/// <summary>
/// torchvision's ResNet-50 (v1.5: the stride on the 3x3 convolution) as a <see cref="ModelGraph"/> with torchvision's
/// state-dict keys: stem <c>conv1</c> 7x7/2, <c>bn1</c>, ReLU, 3x3/2 max-pool; Bottleneck blocks [3, 4, 6, 3] with
/// widths 64/128/256/512 and expansion 4 (<c>layerN.B.conv1/bn1/conv2/bn2/conv3/bn3</c>, projection
/// <c>layerN.0.downsample.0/1</c>); global average pool, flatten, <c>fc</c> 2048 -&gt; classes. 25,557,032 parameters
/// at 1000 classes. No built-in architecture has Bottleneck blocks, so the import benchmark builds it here.
/// </summary>
internal static class ResNet50Graph
{
    private const int Expansion = 4;
    private static readonly int[] BlocksPerLayer = [3, 4, 6, 3];
    private static readonly int[] LayerWidths = [64, 128, 256, 512];

    /// <summary>The graph for 3-channel input and <paramref name="classes"/> logits.</summary>
    public static ModelGraph Build(int classes = 1000)
    {
        var g = new GraphBuilder();
        string x = g.Conv("conv1", g.Input, 3, 64, 7, 2, 3);
        x = g.BatchNorm("bn1", x, 64);
        x = g.Add(new ReluNode("relu", x, "relu"));
        x = g.Add(new MaxPoolNode("maxpool", x, "maxpool", 3, 2, 1));
        long channels = 64;
        for (int i = 0; i < BlocksPerLayer.Length; i++)
        {
            long width = LayerWidths[i];
            long outChannels = width * Expansion;
            for (int b = 0; b < BlocksPerLayer[i]; b++)
            {
                int stride = b == 0 && i > 0 ? 2 : 1;
                string p = string.Create(CultureInfo.InvariantCulture, $"layer{i + 1}.{b}.");
                string y = g.Conv(p + "conv1", x, channels, width, 1, 1, 0);
                y = g.BatchNorm(p + "bn1", y, width);
                y = g.Add(new ReluNode(p + "relu1", y, p + "relu1"));
                y = g.Conv(p + "conv2", y, width, width, 3, stride, 1);
                y = g.BatchNorm(p + "bn2", y, width);
                y = g.Add(new ReluNode(p + "relu2", y, p + "relu2"));
                y = g.Conv(p + "conv3", y, width, outChannels, 1, 1, 0);
                y = g.BatchNorm(p + "bn3", y, outChannels);
                string shortcut = x;
                if (stride != 1 || channels != outChannels)
                {
                    shortcut = g.Conv(p + "downsample.0", x, channels, outChannels, 1, stride, 0);
                    shortcut = g.BatchNorm(p + "downsample.1", shortcut, outChannels);
                }
                y = g.Add(new AddNode(p + "add", y, shortcut, p + "add"));
                x = g.Add(new ReluNode(p + "relu3", y, p + "relu3"));
                channels = outChannels;
            }
        }
        x = g.Add(new GlobalAveragePoolNode("avgpool", x, "avgpool"));
        x = g.Add(new FlattenNode("flatten", x, "flatten"));
        return g.Build(g.Linear("fc", x, channels, classes, output: "logits"));
    }
}

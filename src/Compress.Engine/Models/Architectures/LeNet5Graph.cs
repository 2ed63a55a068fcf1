using Compress.Engine.Models.Graph;

namespace Compress.Engine.Models.Architectures;

/// <summary>
/// LeNet-5 for 1x28x28 images (MNIST layout): conv1 1-&gt;6 5x5 padding 2, ReLU, 2x2 max-pool, conv2 6-&gt;16 5x5,
/// ReLU, 2x2 max-pool, flatten (16x5x5 = 400), fc1 400-&gt;120, ReLU, fc2 120-&gt;84, ReLU, fc3 84-&gt;classes; all
/// layers with bias. 61,706 parameters at width 1 and 10 classes. The width multiplier scales 6, 16, 120 and 84;
/// <see cref="ModelOptions.Channels"/> may set them one by one (channel pruning). PyTorch's default initialisation.
/// </summary>
internal static class LeNet5Graph
{
    /// <summary>The graph at <paramref name="options"/>' widths.</summary>
    public static ModelGraph Build(ModelOptions options)
    {
        double w = options.WidthMultiplier;
        long c1 = ChannelScaling.Width(options, "conv1", ChannelScaling.Scale(6, w));
        long c2 = ChannelScaling.Width(options, "conv2", ChannelScaling.Scale(16, w));
        long h1 = ChannelScaling.Width(options, "fc1", ChannelScaling.Scale(120, w));
        long h2 = ChannelScaling.Width(options, "fc2", ChannelScaling.Scale(84, w));
        var g = new GraphBuilder();
        string x = g.Conv("conv1", g.Input, 1, c1, 5, 1, 2, bias: true);
        x = g.Add(new ReluNode("relu1", x, "relu1"));
        x = g.Add(new MaxPoolNode("pool1", x, "pool1", 2, 2));
        x = g.Conv("conv2", x, c1, c2, 5, 1, 0, bias: true);
        x = g.Add(new ReluNode("relu2", x, "relu2"));
        x = g.Add(new MaxPoolNode("pool2", x, "pool2", 2, 2));
        x = g.Add(new FlattenNode("flatten", x, "flatten"));
        x = g.Linear("fc1", x, c2 * 5 * 5, h1);
        x = g.Add(new ReluNode("relu3", x, "relu3"));
        x = g.Linear("fc2", x, h1, h2);
        x = g.Add(new ReluNode("relu4", x, "relu4"));
        return g.Build(g.Linear("fc3", x, h2, options.Classes, output: "logits"));
    }
}

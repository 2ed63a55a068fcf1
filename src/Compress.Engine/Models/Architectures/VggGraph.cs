using System.Globalization;
using Compress.Engine.Models.Graph;

namespace Compress.Engine.Models.Architectures;

/// <summary>
/// The VGG of the MIT EfficientML.ai pruning lab (<c>vgg-cifar</c>): 3x3 convolutions (padding 1, no bias), each
/// followed by BatchNorm and ReLU, with channels 64, 128, M, 256, 256, M, 512, 512, M, 512, 512, M (M = 2x2 max-pool),
/// then the mean over height and width and <c>Linear(512, classes)</c> with bias. Keys <c>backbone.conv0..7</c>,
/// <c>backbone.bn0..7</c> and <c>classifier</c>. Natural input 3x32x32; 9,228,362 parameters at width 1 and 10
/// classes. PyTorch's default initialisation.
/// </summary>
internal static class VggGraph
{
    /// <summary>The lab's layer plan: channel counts, 0 = 2x2 max-pool.</summary>
    private static readonly int[] Plan = [64, 128, 0, 256, 256, 0, 512, 512, 0, 512, 512, 0];

    /// <summary>The graph at <paramref name="options"/>' widths.</summary>
    public static ModelGraph Build(ModelOptions options)
    {
        var g = new GraphBuilder();
        string x = g.Input;
        long channels = 3;
        int conv = 0, pool = 0;
        foreach (int planned in Plan)
        {
            if (planned == 0)
            {
                string p = "backbone.pool" + Index(pool++);
                x = g.Add(new MaxPoolNode(p, x, p, 2, 2));
                continue;
            }
            string c = "backbone.conv" + Index(conv);
            long outChannels = ChannelScaling.Width(options, c, ChannelScaling.Scale(planned, options.WidthMultiplier));
            x = g.Conv(c, x, channels, outChannels, 3, 1, 1);
            x = g.BatchNorm("backbone.bn" + Index(conv), x, outChannels);
            string r = "backbone.relu" + Index(conv);
            x = g.Add(new ReluNode(r, x, r));
            channels = outChannels;
            conv++;
        }
        x = g.Add(new GlobalAveragePoolNode("pool", x, "pool"));
        x = g.Add(new FlattenNode("flatten", x, "flatten"));
        return g.Build(g.Linear("classifier", x, channels, options.Classes, output: "logits"));
    }

    private static string Index(int i) => i.ToString(CultureInfo.InvariantCulture);
}

using System.Globalization;
using Compress.Engine.Models.Graph;
using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace Compress.Engine.Models;

/// <summary>
/// The VGG of the MIT EfficientML.ai pruning lab (<c>vgg-cifar</c>): 3x3 convolutions (padding 1, no bias), each
/// followed by BatchNorm and ReLU, with channels 64, 128, M, 256, 256, M, 512, 512, M, 512, 512, M (M = 2x2 max-pool),
/// then the mean over height and width and <c>Linear(512, classes)</c> with bias. Keys <c>backbone.conv0..7</c>,
/// <c>backbone.bn0..7</c> (the ReLU and pool modules are numbered too but hold no state) and <c>classifier</c>.
/// Natural input 3x32x32; 9,228,362 parameters at width 1 and 10 classes. PyTorch's default initialisation.
/// <see cref="ModelOptions.Channels"/> may set each <c>backbone.convN</c>'s width (channel pruning).
/// </summary>
public sealed class Vgg : ClassifierModel
{
    /// <summary>The lab's layer plan: channel counts, 0 = 2x2 max-pool.</summary>
    private static readonly int[] Plan = [64, 128, 0, 256, 256, 0, 512, 512, 0, 512, 512, 0];

    [ComponentName(Name = "backbone")] private readonly Sequential _backbone;
    [ComponentName(Name = "classifier")] private readonly Linear _classifier;

    /// <summary>Builds the VGG; prefer <see cref="ModelFactory.Create"/>, which validates the options.</summary>
    internal Vgg(ModelOptions options) : base(nameof(Vgg), options, new InputShape(3, 32, 32))
    {
        var layers = new List<(string, nn.Module<Tensor, Tensor>)>();
        int conv = 0, pool = 0, inChannels = InputShape.Channels;
        foreach (int channels in Plan)
        {
            if (channels == 0)
            {
                layers.Add(("pool" + Index(pool++), nn.MaxPool2d(2)));
                continue;
            }
            int outChannels = ChannelScaling.Width(options, "backbone.conv" + Index(conv),
                ChannelScaling.Scale(channels, options.WidthMultiplier));
            layers.Add(("conv" + Index(conv), nn.Conv2d(inChannels, outChannels, 3, padding: 1, bias: false)));
            layers.Add(("bn" + Index(conv), nn.BatchNorm2d(outChannels)));
            layers.Add(("relu" + Index(conv), nn.ReLU()));
            inChannels = outChannels;
            conv++;
        }
        _backbone = nn.Sequential(layers);
        _classifier = nn.Linear(inChannels, options.Classes);
        register_module("backbone", _backbone);
        register_module("classifier", _classifier);
        RegisterComponents();
    }

    /// <summary>The producers <see cref="ModelOptions.Channels"/> may set: <c>backbone.conv0..7</c> (no residual ties).</summary>
    internal static ChannelLayout Layout(double widthMultiplier)
    {
        var defaults = new List<KeyValuePair<string, int>>();
        foreach (int channels in Plan.Where(c => c != 0))
            defaults.Add(new("backbone.conv" + Index(defaults.Count), ChannelScaling.Scale(channels, widthMultiplier)));
        return new ChannelLayout(defaults, []);
    }

    /// <inheritdoc/>
    public override ModelGraph DescribeGraph()
    {
        var modules = _backbone.named_children().ToDictionary(c => c.name, c => c.module);
        var nodes = new List<GraphNode>();
        string x = "input";
        int conv = 0, pool = 0;
        foreach (int channels in Plan)
        {
            if (channels == 0)
            {
                string p = "backbone.pool" + Index(pool++);
                nodes.Add(new MaxPoolNode(p, x, p, 2, 2));
                x = p;
                continue;
            }
            string c = "backbone.conv" + Index(conv), b = "backbone.bn" + Index(conv), r = "backbone.relu" + Index(conv);
            nodes.Add(new ConvNode(c, x, c, c, 1, 1));
            nodes.Add(new BatchNormNode(b, c, b, b, ((BatchNorm2d)modules["bn" + Index(conv)]).eps));
            nodes.Add(new ReluNode(r, b, r));
            x = r;
            conv++;
        }
        nodes.Add(new GlobalAveragePoolNode("pool", x, "pool"));
        nodes.Add(new FlattenNode("flatten", "pool", "flatten"));
        nodes.Add(new LinearNode("classifier", "flatten", "logits", "classifier"));
        return new ModelGraph("input", "logits", nodes);
    }

    public override Tensor forward(Tensor input)
    {
        using var features = _backbone.call(input);
        using var pooled = features.mean([2, 3]);
        return _classifier.call(pooled);
    }

    private static string Index(int i) => i.ToString(CultureInfo.InvariantCulture);
}

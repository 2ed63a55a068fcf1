using Compress.Engine.Models.Graph;
using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace Compress.Engine.Models;

/// <summary>
/// ResNet with <see cref="BasicBlock"/>s and torchvision's key names (<c>conv1</c>, <c>bn1</c>, <c>layer1..N</c>,
/// <c>fc</c>). Three variants (<see cref="ModelFactory"/>):
/// <list type="bullet">
/// <item><c>resnet18</c>: torchvision's ImageNet stem (7x7 stride-2 conv, BN, ReLU, 3x3 stride-2 max-pool),
/// blocks [2,2,2,2] with 64/128/256/512 channels; natural input 3x224x224.</item>
/// <item><c>resnet18-cifar</c>: the same with a 3x3 stride-1 stem conv and no max-pool; input 3x32x32.</item>
/// <item><c>resnet56-cifar</c>: 3x3 stem with 16 channels, blocks [9,9,9] with 16/32/64 channels; input 3x32x32.
/// He et al. used the parameter-free "option A" shortcut for CIFAR; we use "option B" (1x1 conv + BN projection
/// where the shape changes, as torchvision and most pruning code do), so checkpoints keep torchvision's
/// <c>layerN.0.downsample.0/1</c> keys and every shortcut is prunable like any other convolution.</item>
/// </list>
/// After the blocks: global average pooling and a linear layer. Initialisation follows torchvision (Kaiming-normal
/// fan-out convolutions, BN weight 1 and bias 0, PyTorch's default for the linear layer).
/// </summary>
public sealed class ResNet : ClassifierModel
{
    [ComponentName(Name = "conv1")] private readonly Conv2d _conv1;
    [ComponentName(Name = "bn1")] private readonly BatchNorm2d _bn1;
    [ComponentName(Name = "fc")] private readonly Linear _fc;
    private readonly Sequential[] _layers;
    private readonly bool _imageNetStem;

    /// <summary>One ResNet variant: its natural input, stem and stages (channel counts before width scaling).</summary>
    /// <param name="Input">The natural input of this variant.</param>
    /// <param name="ImageNetStem">7x7/2 conv + max-pool stem (true) or 3x3/1 conv stem (false).</param>
    /// <param name="StemChannels">Stem channels before width scaling.</param>
    /// <param name="BlocksPerLayer">Blocks in each stage.</param>
    /// <param name="LayerChannels">Channels of each stage before width scaling.</param>
    internal sealed record Config(InputShape Input, bool ImageNetStem, int StemChannels, IReadOnlyList<int> BlocksPerLayer,
        IReadOnlyList<int> LayerChannels);

    /// <summary>One block of the unpruned architecture: state-dict prefix, stride, shortcut kind, default out channels.</summary>
    private readonly record struct BlockPlan(string Prefix, int Stage, int Stride, bool Downsample, int Channels);

    /// <summary>
    /// Builds a ResNet; prefer <see cref="ModelFactory.Create"/>, which validates the options (including that the
    /// per-layer widths of <see cref="ModelOptions.Channels"/> agree where outputs are added).
    /// </summary>
    /// <param name="options">Architecture name, width multiplier, class count and optional per-layer widths.</param>
    /// <param name="config">The variant.</param>
    internal ResNet(ModelOptions options, Config config) : base(nameof(ResNet), options, config.Input)
    {
        double w = options.WidthMultiplier;
        _imageNetStem = config.ImageNetStem;
        int inChannels = ChannelScaling.Width(options, "conv1", ChannelScaling.Scale(config.StemChannels, w));
        _conv1 = config.ImageNetStem
            ? nn.Conv2d(config.Input.Channels, inChannels, 7, stride: 2, padding: 3, bias: false)
            : nn.Conv2d(config.Input.Channels, inChannels, 3, stride: 1, padding: 1, bias: false);
        _bn1 = nn.BatchNorm2d(inChannels);
        register_module("conv1", _conv1);
        register_module("bn1", _bn1);

        var plans = Blocks(config, w).ToList();
        _layers = new Sequential[config.BlocksPerLayer.Count];
        for (int i = 0; i < _layers.Length; i++)
        {
            var blocks = new List<nn.Module<Tensor, Tensor>>();
            foreach (var plan in plans.Where(p => p.Stage == i))
            {
                // The shortcut kind comes from the unpruned architecture; the widths from the options.
                int mid = ChannelScaling.Width(options, plan.Prefix + ".conv1", plan.Channels);
                int outChannels = ChannelScaling.Width(options, plan.Prefix + ".conv2", plan.Channels);
                blocks.Add(new BasicBlock(inChannels, mid, outChannels, plan.Stride, plan.Downsample));
                inChannels = outChannels;
            }
            _layers[i] = nn.Sequential(blocks);
            register_module("layer" + (i + 1).ToString(System.Globalization.CultureInfo.InvariantCulture), _layers[i]);
        }

        _fc = nn.Linear(inChannels, options.Classes);
        register_module("fc", _fc);
        RegisterComponents();

        // torchvision's initialisation (BN already starts at weight 1, bias 0).
        foreach (var (_, module) in named_modules())
        {
            if (module is Conv2d conv)
                nn.init.kaiming_normal_(conv.weight, mode: nn.init.FanInOut.FanOut,
                    nonlinearity: nn.init.NonlinearityType.ReLU);
        }
    }

    /// <summary>Number of residual stages (4 for ResNet-18, 3 for ResNet-56).</summary>
    public int StageCount => _layers.Length;

    /// <summary>
    /// The producers <see cref="ModelOptions.Channels"/> may set (stem <c>conv1</c>, every block's <c>conv1</c> and
    /// <c>conv2</c>, every <c>downsample.0</c>) and the residual sets that must stay equal: each run of blocks joined by
    /// identity shortcuts shares one channel set with whatever feeds its first block (the stem for <c>layer1</c>
    /// without a downsample, else that block's downsample).
    /// </summary>
    internal static ChannelLayout Layout(Config config, double widthMultiplier)
    {
        var defaults = new List<KeyValuePair<string, int>> { new("conv1", ChannelScaling.Scale(config.StemChannels, widthMultiplier)) };
        var tied = new List<IReadOnlyList<string>>();
        var current = new List<string> { "conv1" };
        foreach (var plan in Blocks(config, widthMultiplier))
        {
            defaults.Add(new(plan.Prefix + ".conv1", plan.Channels));
            defaults.Add(new(plan.Prefix + ".conv2", plan.Channels));
            if (plan.Downsample)
            {
                defaults.Add(new(plan.Prefix + ".downsample.0", plan.Channels));
                if (current.Count > 1) tied.Add(current);
                current = [plan.Prefix + ".downsample.0"];
            }
            current.Add(plan.Prefix + ".conv2");
        }
        if (current.Count > 1) tied.Add(current);
        return new ChannelLayout(defaults, tied);
    }

    /// <summary>The blocks of the unpruned architecture at <paramref name="widthMultiplier"/>.</summary>
    private static IEnumerable<BlockPlan> Blocks(Config config, double widthMultiplier)
    {
        int inChannels = ChannelScaling.Scale(config.StemChannels, widthMultiplier);
        for (int i = 0; i < config.BlocksPerLayer.Count; i++)
        {
            int outChannels = ChannelScaling.Scale(config.LayerChannels[i], widthMultiplier);
            for (int b = 0; b < config.BlocksPerLayer[i]; b++)
            {
                int stride = b == 0 && i > 0 ? 2 : 1;
                string prefix = string.Create(System.Globalization.CultureInfo.InvariantCulture, $"layer{i + 1}.{b}");
                yield return new BlockPlan(prefix, i, stride, stride != 1 || inChannels != outChannels, outChannels);
                inChannels = outChannels;
            }
        }
    }

    /// <inheritdoc/>
    public override ModelGraph DescribeGraph()
    {
        var nodes = new List<GraphNode>
        {
            _imageNetStem
                ? new ConvNode("conv1", "input", "conv1", "conv1", 2, 3)
                : new ConvNode("conv1", "input", "conv1", "conv1", 1, 1),
            new BatchNormNode("bn1", "conv1", "bn1", "bn1", _bn1.eps),
            new ReluNode("relu", "bn1", "relu"),
        };
        string x = "relu";
        if (_imageNetStem)
        {
            nodes.Add(new MaxPoolNode("maxpool", x, "maxpool", 3, 2, 1));
            x = "maxpool";
        }
        for (int i = 0; i < _layers.Length; i++)
        {
            string layer = "layer" + (i + 1).ToString(System.Globalization.CultureInfo.InvariantCulture);
            int b = 0;
            foreach (var block in _layers[i].children().Cast<BasicBlock>())
                x = block.Describe(layer + "." + (b++).ToString(System.Globalization.CultureInfo.InvariantCulture), x, nodes);
        }
        nodes.Add(new GlobalAveragePoolNode("avgpool", x, "avgpool"));
        nodes.Add(new FlattenNode("flatten", "avgpool", "flatten"));
        nodes.Add(new LinearNode("fc", "flatten", "logits", "fc"));
        return new ModelGraph("input", "logits", nodes);
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var x = nn.functional.relu(_bn1.call(_conv1.call(input)));
        if (_imageNetStem) x = nn.functional.max_pool2d(x, 3, 2, 1);
        foreach (var layer in _layers) x = layer.call(x);
        x = x.mean([2, 3]);
        return _fc.call(x).MoveToOuterDisposeScope();
    }
}

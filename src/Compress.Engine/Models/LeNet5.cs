using Compress.Engine.Models.Graph;
using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace Compress.Engine.Models;

/// <summary>
/// LeNet-5 for 1x28x28 images (MNIST layout): conv1 1-&gt;6 5x5 padding 2, ReLU, 2x2 max-pool, conv2 6-&gt;16 5x5,
/// ReLU, 2x2 max-pool, flatten (16x5x5 = 400), fc1 400-&gt;120, ReLU, fc2 120-&gt;84, ReLU, fc3 84-&gt;classes; all
/// layers with bias. 61,706 parameters at width 1 and 10 classes. The width multiplier scales 6, 16, 120 and 84;
/// <see cref="ModelOptions.Channels"/> may set them one by one (channel pruning).
/// PyTorch's default initialisation.
/// </summary>
public sealed class LeNet5 : ClassifierModel
{
    [ComponentName(Name = "conv1")] private readonly Conv2d _conv1;
    [ComponentName(Name = "conv2")] private readonly Conv2d _conv2;
    [ComponentName(Name = "fc1")] private readonly Linear _fc1;
    [ComponentName(Name = "fc2")] private readonly Linear _fc2;
    [ComponentName(Name = "fc3")] private readonly Linear _fc3;

    /// <summary>Builds LeNet-5; prefer <see cref="ModelFactory.Create"/>, which validates the options.</summary>
    internal LeNet5(ModelOptions options) : base(nameof(LeNet5), options, new InputShape(1, 28, 28))
    {
        var widths = Layout(options.WidthMultiplier).Defaults
            .Select(d => ChannelScaling.Width(options, d.Key, d.Value)).ToArray();
        int c1 = widths[0], c2 = widths[1], h1 = widths[2], h2 = widths[3];
        _conv1 = nn.Conv2d(InputShape.Channels, c1, 5, padding: 2);
        _conv2 = nn.Conv2d(c1, c2, 5);
        _fc1 = nn.Linear(c2 * 5 * 5, h1);
        _fc2 = nn.Linear(h1, h2);
        _fc3 = nn.Linear(h2, options.Classes);
        register_module("conv1", _conv1);
        register_module("conv2", _conv2);
        register_module("fc1", _fc1);
        register_module("fc2", _fc2);
        register_module("fc3", _fc3);
        RegisterComponents();
    }

    /// <summary>The producers <see cref="ModelOptions.Channels"/> may set: <c>conv1</c>, <c>conv2</c>, <c>fc1</c>,
    /// <c>fc2</c> (the hidden linear layers' out features count as channels; <c>fc3</c> gives the logits).</summary>
    internal static ChannelLayout Layout(double widthMultiplier) => new(
    [
        new("conv1", ChannelScaling.Scale(6, widthMultiplier)),
        new("conv2", ChannelScaling.Scale(16, widthMultiplier)),
        new("fc1", ChannelScaling.Scale(120, widthMultiplier)),
        new("fc2", ChannelScaling.Scale(84, widthMultiplier)),
    ], []);

    /// <inheritdoc/>
    public override ModelGraph DescribeGraph() => new("input", "logits",
    [
        new ConvNode("conv1", "input", "conv1", "conv1", 1, 2, HasBias: true),
        new ReluNode("relu1", "conv1", "relu1"),
        new MaxPoolNode("pool1", "relu1", "pool1", 2, 2),
        new ConvNode("conv2", "pool1", "conv2", "conv2", 1, 0, HasBias: true),
        new ReluNode("relu2", "conv2", "relu2"),
        new MaxPoolNode("pool2", "relu2", "pool2", 2, 2),
        new FlattenNode("flatten", "pool2", "flatten"),
        new LinearNode("fc1", "flatten", "fc1", "fc1"),
        new ReluNode("relu3", "fc1", "relu3"),
        new LinearNode("fc2", "relu3", "fc2", "fc2"),
        new ReluNode("relu4", "fc2", "relu4"),
        new LinearNode("fc3", "relu4", "logits", "fc3"),
    ]);

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var x = nn.functional.max_pool2d(nn.functional.relu(_conv1.call(input)), 2);
        x = nn.functional.max_pool2d(nn.functional.relu(_conv2.call(x)), 2);
        x = x.flatten(1);
        x = nn.functional.relu(_fc1.call(x));
        x = nn.functional.relu(_fc2.call(x));
        return _fc3.call(x).MoveToOuterDisposeScope();
    }
}

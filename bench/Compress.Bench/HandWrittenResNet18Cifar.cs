using System.Globalization;
using Compress.Engine.Models;
using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace Compress.Bench;

/// <summary>
/// resnet18-cifar as the engine wrote it by hand before networks became graphs (commit <c>1a76f98^</c>,
/// <c>Models/ResNet.cs</c>, reduced to this one variant with no per-layer widths): 3x3 stride-1 stem conv, BN, ReLU,
/// four stages of two <see cref="HandWrittenBasicBlock"/>s (64/128/256/512 channels x width, "option B" projection
/// shortcuts where the shape changes), mean over H and W, linear. Same constructor logic, registration order and key
/// names (<c>conv1</c>, <c>bn1</c>, <c>layer1.0.conv1</c>, ..., <c>fc</c>) as the graph-built model, so a state dict
/// copies across one to one. Benchmark reference only.
/// </summary>
internal sealed class HandWrittenResNet18Cifar : nn.Module<Tensor, Tensor>
{
    private static readonly int[] BlocksPerLayer = [2, 2, 2, 2];
    private static readonly int[] LayerChannels = [64, 128, 256, 512];
    private const int StemChannels = 64;

    [ComponentName(Name = "conv1")] private readonly Conv2d _conv1;
    [ComponentName(Name = "bn1")] private readonly BatchNorm2d _bn1;
    [ComponentName(Name = "fc")] private readonly Linear _fc;
    private readonly Sequential[] _layers;

    /// <summary>Builds the network at <paramref name="widthMultiplier"/> with torchvision's initialisation
    /// (Kaiming-normal fan-out convolutions), drawing from torch's global generator.</summary>
    public HandWrittenResNet18Cifar(double widthMultiplier, int classes = 10) : base(nameof(HandWrittenResNet18Cifar))
    {
        int inChannels = ChannelScaling.Scale(StemChannels, widthMultiplier);
        _conv1 = nn.Conv2d(3, inChannels, 3, stride: 1, padding: 1, bias: false);
        _bn1 = nn.BatchNorm2d(inChannels);
        register_module("conv1", _conv1);
        register_module("bn1", _bn1);

        _layers = new Sequential[BlocksPerLayer.Length];
        for (int i = 0; i < _layers.Length; i++)
        {
            int outChannels = ChannelScaling.Scale(LayerChannels[i], widthMultiplier);
            var blocks = new List<nn.Module<Tensor, Tensor>>();
            for (int b = 0; b < BlocksPerLayer[i]; b++)
            {
                int stride = b == 0 && i > 0 ? 2 : 1;
                blocks.Add(new HandWrittenBasicBlock(inChannels, outChannels, outChannels, stride,
                    stride != 1 || inChannels != outChannels));
                inChannels = outChannels;
            }
            _layers[i] = nn.Sequential(blocks);
            register_module("layer" + (i + 1).ToString(CultureInfo.InvariantCulture), _layers[i]);
        }

        _fc = nn.Linear(inChannels, classes);
        register_module("fc", _fc);
        RegisterComponents();

        foreach (var (_, module) in named_modules())
        {
            if (module is Conv2d conv)
                nn.init.kaiming_normal_(conv.weight, mode: nn.init.FanInOut.FanOut, nonlinearity: nn.init.NonlinearityType.ReLU);
        }
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var x = nn.functional.relu(_bn1.call(_conv1.call(input)));
        foreach (var layer in _layers) x = layer.call(x);
        x = x.mean([2, 3]);
        return _fc.call(x).MoveToOuterDisposeScope();
    }
}

using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace Compress.Engine.Models;

/// <summary>
/// torchvision's ResNet BasicBlock: conv3x3(stride) - BN - ReLU - conv3x3 - BN, plus the shortcut, then ReLU.
/// When the stride is not 1 or the channel count changes, the shortcut is the "option B" projection
/// <c>downsample = Sequential(conv1x1(stride), BN)</c> (keys <c>downsample.0.weight</c>, <c>downsample.1.*</c>);
/// otherwise it is the identity. Convolutions have no bias (BN follows them).
/// </summary>
public sealed class BasicBlock : nn.Module<Tensor, Tensor>
{
    // Registered explicitly, in PyTorch's order, in the constructor; the attributes keep TorchSharp's reflection-based
    // registration (if it ever runs) from adding the same modules a second time under the field names.
    [ComponentName(Name = "conv1")] private readonly Conv2d _conv1;
    [ComponentName(Name = "bn1")] private readonly BatchNorm2d _bn1;
    [ComponentName(Name = "conv2")] private readonly Conv2d _conv2;
    [ComponentName(Name = "bn2")] private readonly BatchNorm2d _bn2;
    [ComponentName(Name = "downsample")] private readonly Sequential? _downsample;

    /// <summary>Creates a block mapping <paramref name="inChannels"/> to <paramref name="outChannels"/>.</summary>
    public BasicBlock(int inChannels, int outChannels, int stride) : base(nameof(BasicBlock))
    {
        InChannels = inChannels;
        OutChannels = outChannels;
        Stride = stride;
        _conv1 = nn.Conv2d(inChannels, outChannels, 3, stride: stride, padding: 1, bias: false);
        _bn1 = nn.BatchNorm2d(outChannels);
        _conv2 = nn.Conv2d(outChannels, outChannels, 3, stride: 1, padding: 1, bias: false);
        _bn2 = nn.BatchNorm2d(outChannels);
        register_module("conv1", _conv1);
        register_module("bn1", _bn1);
        register_module("conv2", _conv2);
        register_module("bn2", _bn2);
        if (stride != 1 || inChannels != outChannels)
        {
            _downsample = nn.Sequential(
                nn.Conv2d(inChannels, outChannels, 1, stride: stride, bias: false),
                nn.BatchNorm2d(outChannels));
            register_module("downsample", _downsample);
        }
        RegisterComponents();
    }

    /// <summary>Input channels.</summary>
    public int InChannels { get; }

    /// <summary>Output channels.</summary>
    public int OutChannels { get; }

    /// <summary>Stride of the first convolution (and of the projection shortcut).</summary>
    public int Stride { get; }

    /// <summary>True when the shortcut is the 1x1 conv + BN projection rather than the identity.</summary>
    public bool HasDownsample => _downsample is not null;

    public override Tensor forward(Tensor input)
    {
        using var c1 = _conv1.call(input);
        using var b1 = _bn1.call(c1);
        using var r1 = nn.functional.relu(b1);
        using var c2 = _conv2.call(r1);
        using var b2 = _bn2.call(c2);
        using var shortcut = _downsample?.call(input);
        using var sum = b2.add(shortcut ?? input);
        return nn.functional.relu(sum);
    }
}

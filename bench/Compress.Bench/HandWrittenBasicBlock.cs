using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace Compress.Bench;

/// <summary>
/// The engine's hand-written BasicBlock from before the graph (commit <c>1a76f98^</c>, <c>Models/BasicBlock.cs</c>),
/// kept in the benchmarks only as the reference that <c>graph-training</c> times the graph-built ResNet against:
/// conv3x3(stride) - BN - ReLU - conv3x3 - BN, plus the shortcut (identity, or the 1x1 conv + BN projection
/// <c>downsample.0/1</c>), then ReLU. Convolutions have no bias.
/// </summary>
internal sealed class HandWrittenBasicBlock : nn.Module<Tensor, Tensor>
{
    // Registered explicitly, in PyTorch's order, in the constructor; the attributes keep TorchSharp's reflection-based
    // registration from adding the same modules a second time under the field names.
    [ComponentName(Name = "conv1")] private readonly Conv2d _conv1;
    [ComponentName(Name = "bn1")] private readonly BatchNorm2d _bn1;
    [ComponentName(Name = "conv2")] private readonly Conv2d _conv2;
    [ComponentName(Name = "bn2")] private readonly BatchNorm2d _bn2;
    [ComponentName(Name = "downsample")] private readonly Sequential? _downsample;

    /// <summary>A block <paramref name="inChannels"/> -&gt; <paramref name="midChannels"/> -&gt;
    /// <paramref name="outChannels"/>, with the projection shortcut when <paramref name="downsample"/> is set.</summary>
    public HandWrittenBasicBlock(int inChannels, int midChannels, int outChannels, int stride, bool downsample)
        : base(nameof(HandWrittenBasicBlock))
    {
        if (!downsample && (stride != 1 || inChannels != outChannels))
            throw new ArgumentException(
                $"A block without a downsample needs stride 1 and equal in and out channels (got stride {stride}, {inChannels} -> {outChannels}).",
                nameof(downsample));
        _conv1 = nn.Conv2d(inChannels, midChannels, 3, stride: stride, padding: 1, bias: false);
        _bn1 = nn.BatchNorm2d(midChannels);
        _conv2 = nn.Conv2d(midChannels, outChannels, 3, stride: 1, padding: 1, bias: false);
        _bn2 = nn.BatchNorm2d(outChannels);
        register_module("conv1", _conv1);
        register_module("bn1", _bn1);
        register_module("conv2", _conv2);
        register_module("bn2", _bn2);
        if (downsample)
        {
            _downsample = nn.Sequential(
                nn.Conv2d(inChannels, outChannels, 1, stride: stride, bias: false),
                nn.BatchNorm2d(outChannels));
            register_module("downsample", _downsample);
        }
        RegisterComponents();
    }

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

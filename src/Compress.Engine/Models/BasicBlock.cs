using Compress.Engine.Models.Graph;
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

    /// <summary>Creates a block mapping <paramref name="inChannels"/> to <paramref name="outChannels"/>, with the
    /// projection shortcut exactly when the stride is not 1 or the channel count changes (torchvision's rule).</summary>
    public BasicBlock(int inChannels, int outChannels, int stride)
        : this(inChannels, outChannels, outChannels, stride, stride != 1 || inChannels != outChannels)
    {
    }

    /// <summary>
    /// Creates a block with arbitrary widths, as channel pruning leaves them: <paramref name="midChannels"/> between
    /// the two convolutions, <paramref name="outChannels"/> out of <c>conv2</c> and the shortcut. Whether there is a
    /// projection shortcut is given (<paramref name="downsample"/>), because a pruned block keeps the structure of the
    /// unpruned one even where its widths no longer show it; without one, <paramref name="inChannels"/> must equal
    /// <paramref name="outChannels"/> and the stride must be 1.
    /// </summary>
    public BasicBlock(int inChannels, int midChannels, int outChannels, int stride, bool downsample) : base(nameof(BasicBlock))
    {
        if (!downsample && (stride != 1 || inChannels != outChannels))
            throw new ArgumentException(
                $"A block without a downsample needs stride 1 and equal in and out channels (got stride {stride}, {inChannels} -> {outChannels}).",
                nameof(downsample));
        InChannels = inChannels;
        MidChannels = midChannels;
        OutChannels = outChannels;
        Stride = stride;
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

    /// <summary>Input channels.</summary>
    public int InChannels { get; }

    /// <summary>Channels between the two convolutions (equal to <see cref="OutChannels"/> unless pruned).</summary>
    public int MidChannels { get; }

    /// <summary>Output channels.</summary>
    public int OutChannels { get; }

    /// <summary>Stride of the first convolution (and of the projection shortcut).</summary>
    public int Stride { get; }

    /// <summary>True when the shortcut is the 1x1 conv + BN projection rather than the identity.</summary>
    public bool HasDownsample => _downsample is not null;

    /// <summary>
    /// Appends this block's nodes under state-dict prefix <paramref name="prefix"/> (e.g. <c>layer1.0</c>), reading
    /// <paramref name="input"/>; returns the name of the block's output value.
    /// </summary>
    internal string Describe(string prefix, string input, List<GraphNode> into)
    {
        string p = prefix + ".";
        into.Add(new ConvNode(p + "conv1", input, p + "conv1", p + "conv1", Stride, 1));
        into.Add(new BatchNormNode(p + "bn1", p + "conv1", p + "bn1", p + "bn1", _bn1.eps));
        into.Add(new ReluNode(p + "relu1", p + "bn1", p + "relu1"));
        into.Add(new ConvNode(p + "conv2", p + "relu1", p + "conv2", p + "conv2", 1, 1));
        into.Add(new BatchNormNode(p + "bn2", p + "conv2", p + "bn2", p + "bn2", _bn2.eps));
        string shortcut = input;
        if (_downsample is not null)
        {
            var bn = (BatchNorm2d)_downsample[1];
            into.Add(new ConvNode(p + "downsample.0", input, p + "downsample.0", p + "downsample.0", Stride, 0));
            into.Add(new BatchNormNode(p + "downsample.1", p + "downsample.0", p + "downsample.1", p + "downsample.1", bn.eps));
            shortcut = p + "downsample.1";
        }
        into.Add(new AddNode(p + "add", p + "bn2", shortcut, p + "add"));
        into.Add(new ReluNode(p + "relu2", p + "add", p + "relu2"));
        return p + "relu2";
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

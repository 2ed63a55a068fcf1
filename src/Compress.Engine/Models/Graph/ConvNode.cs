using System.Globalization;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Compress.Engine.Models.Graph;

/// <summary>
/// A 2-d convolution with square stride, padding and dilation; the kernel size and channel counts come from the
/// weight <c>Module.weight</c> <c>[out, in/groups, kH, kW]</c>, so they cannot disagree with the checkpoint.
/// MACs: output elements x (in channels / groups) x kH x kW.
/// </summary>
/// <param name="Name">Node name (the module prefix).</param>
/// <param name="Input">Value read.</param>
/// <param name="Output">Value written.</param>
/// <param name="Module">State-dict prefix of the module, e.g. <c>layer1.0.conv1</c>.</param>
/// <param name="Stride">Stride in both directions.</param>
/// <param name="Padding">Zero padding on every side.</param>
/// <param name="Dilation">Dilation in both directions (1 = none).</param>
/// <param name="Groups">Groups (1 = dense convolution).</param>
/// <param name="HasBias">Whether <c>Module.bias</c> exists.</param>
/// <param name="Depthwise">One filter per channel: the group count is the channel count, whatever it becomes (set when
/// <paramref name="Groups"/> equals the input and output channels, as in MobileNet and EfficientNet); channel pruning
/// then shrinks it with the channels.</param>
public sealed record ConvNode(string Name, string Input, string Output, string Module, int Stride, int Padding,
    int Dilation = 1, int Groups = 1, bool HasBias = false, bool Depthwise = false) : GraphNode(Name, [Input], Output)
{
    /// <summary>The group count for weight shape <paramref name="weight"/> (<c>[out, in/groups, kH, kW]</c>).</summary>
    internal int GroupsOf(IReadOnlyList<long> weight) => Depthwise ? checked((int)weight[0]) : Groups;

    /// <inheritdoc/>
    public override string? StatePrefix => Module;

    internal override nn.Module? CreateModule(IReadOnlyDictionary<string, long[]> stateShapes)
    {
        long[] w = stateShapes[Module + ".weight"];
        int groups = GroupsOf(w);
        return nn.Conv2d(w[1] * groups, w[0], (w[2], w[3]), stride: (Stride, Stride), padding: (Padding, Padding),
            dilation: (Dilation, Dilation), groups: groups, bias: HasBias);
    }

    internal override Tensor Forward(IReadOnlyList<Tensor> inputs, nn.Module? module)
    {
        var conv = (Conv2d)module!;
        var x = inputs[0];
        var weight = conv.weight!;
        if (x.dtype == weight.dtype) return conv.call(x);
        // Mixed precision (bfloat16 activations, float32 master weights): the weights are cast for this call only, so
        // their gradients come back float32 through the cast.
        using var w = weight.to(x.dtype);
        using var b = conv.bias?.to(x.dtype);
        return nn.functional.conv2d(x, w, b, strides: [Stride, Stride], padding: [Padding, Padding],
            dilation: [Dilation, Dilation], groups: GroupsOf(weight.shape));
    }

    internal override NodeCost Infer(ShapeContext context)
    {
        var x = context.Input(this, 0);
        string key = Module + ".weight";
        var w = context.State(this, key);
        if (w.Length != 4 || x.Length != 3)
            throw ShapeContext.Mismatch(key, w, $"a convolution needs a [out, in/groups, kH, kW] weight and a [C, H, W] input, got input {ShapeContext.Text(x)}");
        int groups = GroupsOf(w);
        if (groups < 1 || w[0] % groups != 0 || w[1] * groups != x[0] || (Depthwise && w[1] != 1))
            throw ShapeContext.Mismatch(key, w, string.Create(CultureInfo.InvariantCulture,
                $"{w[1]} input channels x {groups} group(s) do not match the {x[0]} channels of its input '{Input}' {ShapeContext.Text(x)}"));
        long h = ShapeContext.WindowOut(x[1], w[2], Stride, Padding, Dilation);
        long width = ShapeContext.WindowOut(x[2], w[3], Stride, Padding, Dilation);
        if (h < 1 || width < 1)
            throw ShapeContext.Mismatch(key, w, $"the output of '{Name}' on its input {ShapeContext.Text(x)} would be empty");
        long parameters = ShapeContext.Product(w);
        if (HasBias) parameters += context.Vector(this, Module + ".bias", w[0]);
        long[] output = [w[0], h, width];
        return new NodeCost(output, ShapeContext.Product(output) * w[1] * w[2] * w[3], parameters, 0);
    }

    internal override void Lower(Export.GraphWriter writer)
    {
        var weightShape = writer.Shape(Module + ".weight", Name);
        if (weightShape.Length != 4)
            throw writer.Unsupported(this, $"weight '{Module}.weight' has shape {ShapeContext.Text(weightShape)}, not [out, in, kH, kW]");
        int groups = GroupsOf(weightShape);
        if (Stride < 1 || Padding < 0 || Dilation < 1 || groups < 1)
            throw writer.Unsupported(this, "stride, dilation and groups must be >= 1 and padding >= 0");
        int outChannels = checked((int)weightShape[0]);
        var inputs = new List<string> { Input, Module + ".weight" };
        string output = Output;
        var folded = writer.FoldedInto(this);
        if (folded is null)
        {
            writer.AddInitializer(Module + ".weight", writer.Floats(Module + ".weight", Name), weightShape);
            if (HasBias)
            {
                writer.AddInitializer(Module + ".bias", writer.Floats(Module + ".bias", Name, outChannels), [outChannels]);
                inputs.Add(Module + ".bias");
            }
        }
        else
        {
            var (weight, bias) = writer.Fold(this, folded, outChannels);
            writer.AddInitializer(Module + ".weight", weight, weightShape);
            writer.AddInitializer(Module + ".bias", bias, [outChannels]);
            inputs.Add(Module + ".bias");
            output = folded.Output;
        }

        var node = writer.Node("Conv", Name, inputs, output);
        node.Attribute.Add(Export.GraphWriter.Ints("dilations", Dilation, Dilation));
        node.Attribute.Add(Export.GraphWriter.Int("group", groups));
        node.Attribute.Add(Export.GraphWriter.Ints("kernel_shape", weightShape[2], weightShape[3]));
        node.Attribute.Add(Export.GraphWriter.Ints("pads", Padding, Padding, Padding, Padding));
        node.Attribute.Add(Export.GraphWriter.Ints("strides", Stride, Stride));
    }

    internal override void Couple(CouplingContext context)
    {
        long[] w = context.StateShapes[Module + ".weight"];
        int groups = GroupsOf(w);
        var input = context.AtomsOn(this, Input, 0);
        string weight = Module + ".weight", bias = Module + ".bias";
        if (Depthwise)
        {
            // One filter per channel: the output carries the input's channels, and the group count follows them.
            context.AddMember(weight, 0, input, ChannelRole.Other, Module);
            context.AddMember(bias, 0, input, ChannelRole.Other, Module);
            context.Write(Output, new ValueChannels(input, 0, 1));
            return;
        }
        var output = context.Produce(checked((int)w[0]));
        context.AddMember(weight, 0, output, ChannelRole.Producer, Module);
        context.AddMember(bias, 0, output, ChannelRole.Producer, Module);
        if (groups == 1)
        {
            context.AddMember(weight, 1, input, ChannelRole.Consumer, Module);
        }
        else
        {
            // Grouped: block j of the outputs reads block j of the inputs; every block keeps as many channels as the
            // others on both sides, so the group count stays valid.
            context.AddMember(weight, 1, input, ChannelRole.GroupedConsumer, Module, blocks: groups);
            context.Partitions.Add((input, groups, Module));
            context.Partitions.Add((output, groups, Module));
        }
        context.Write(Output, new ValueChannels(output, 0, 1));
    }
}

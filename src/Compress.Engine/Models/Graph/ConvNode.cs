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
public sealed record ConvNode(string Name, string Input, string Output, string Module, int Stride, int Padding,
    int Dilation = 1, int Groups = 1, bool HasBias = false) : GraphNode(Name, [Input], Output)
{
    /// <inheritdoc/>
    public override string? StatePrefix => Module;

    internal override nn.Module? CreateModule(IReadOnlyDictionary<string, long[]> stateShapes)
    {
        long[] w = stateShapes[Module + ".weight"];
        return nn.Conv2d(w[1] * Groups, w[0], (w[2], w[3]), stride: (Stride, Stride), padding: (Padding, Padding),
            dilation: (Dilation, Dilation), groups: Groups, bias: HasBias);
    }

    internal override Tensor Forward(IReadOnlyList<Tensor> inputs, nn.Module? module) =>
        ((Conv2d)module!).call(inputs[0]);

    internal override NodeCost Infer(ShapeContext context)
    {
        var x = context.Input(this, 0);
        string key = Module + ".weight";
        var w = context.State(this, key);
        if (w.Length != 4 || x.Length != 3)
            throw ShapeContext.Mismatch(key, w, $"a convolution needs a [out, in/groups, kH, kW] weight and a [C, H, W] input, got input {ShapeContext.Text(x)}");
        if (Groups < 1 || w[0] % Groups != 0 || w[1] * Groups != x[0])
            throw ShapeContext.Mismatch(key, w, string.Create(CultureInfo.InvariantCulture,
                $"{w[1]} input channels x {Groups} group(s) do not match the {x[0]} channels of its input '{Input}' {ShapeContext.Text(x)}"));
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
        if (Stride < 1 || Padding < 0 || Dilation < 1 || Groups < 1)
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
        node.Attribute.Add(Export.GraphWriter.Int("group", Groups));
        node.Attribute.Add(Export.GraphWriter.Ints("kernel_shape", weightShape[2], weightShape[3]));
        node.Attribute.Add(Export.GraphWriter.Ints("pads", Padding, Padding, Padding, Padding));
        node.Attribute.Add(Export.GraphWriter.Ints("strides", Stride, Stride));
    }

    internal override void Couple(CouplingContext context)
    {
        var input = context.Read(this, Input);
        if (input.Flattened) throw CouplingContext.Unsupported($"convolution '{Name}' reads a flattened value");
        int output = context.NewGroup();
        context[input.Group].Consumers.Add((Module, false));
        context[output].Producers.Add(Module);
        if (Groups != 1)
        {
            context[input.Group].Reasons.Add(Pruning.Channels.ChannelDependencyAnalyzer.GroupedConvolutionReason);
            context[output].Reasons.Add(Pruning.Channels.ChannelDependencyAnalyzer.GroupedConvolutionReason);
        }
        context.Write(Output, output);
    }
}

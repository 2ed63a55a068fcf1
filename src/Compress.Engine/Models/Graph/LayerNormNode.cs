using Compress.Engine.Export;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Compress.Engine.Models.Graph;

/// <summary>
/// LayerNorm over the last axis with a weight and a bias (ConvNeXt's channels-last LayerNorm): TorchSharp's
/// <c>LayerNorm</c>, keys <c>Module.weight</c> and <c>Module.bias</c>. One MAC per output element (torchprofile's
/// <c>aten::layer_norm</c>). Written as ONNX <c>LayerNormalization</c> from opset 17, as its decomposition before.
/// </summary>
/// <param name="Name">Node name.</param>
/// <param name="Input">Value read.</param>
/// <param name="Output">Value written.</param>
/// <param name="Module">State-dict prefix.</param>
/// <param name="Epsilon">Added to the variance.</param>
public sealed record LayerNormNode(string Name, string Input, string Output, string Module, double Epsilon)
    : GraphNode(Name, [Input], Output)
{
    /// <inheritdoc/>
    public override string? StatePrefix => Module;

    internal override nn.Module? CreateModule(IReadOnlyDictionary<string, long[]> stateShapes) =>
        nn.LayerNorm(stateShapes[Module + ".weight"][0], eps: Epsilon);

    internal override Tensor Forward(IReadOnlyList<Tensor> inputs, nn.Module? module)
    {
        var norm = (LayerNorm)module!;
        var x = inputs[0];
        if (norm.weight is null || x.dtype == norm.weight.dtype) return norm.call(x);
        // Mixed precision: as BatchNormNode, normalised in float32.
        using var wide = x.to(norm.weight.dtype);
        using var y = norm.call(wide);
        return y.to(x.dtype);
    }

    internal override NodeCost Infer(ShapeContext context)
    {
        var x = context.Input(this, 0);
        if (x.Length < 1) throw ShapeContext.Invalid(this, "it needs at least one axis after the batch");
        long channels = x[^1];
        long parameters = context.Vector(this, Module + ".weight", channels) + context.Vector(this, Module + ".bias", channels);
        return new NodeCost(x, ShapeContext.Product(x), parameters, 0);
    }

    internal override void Lower(GraphWriter writer)
    {
        long channels = writer.Shape(Module + ".weight", Name)[0];
        writer.AddInitializer(Module + ".weight", writer.Floats(Module + ".weight", Name), [channels]);
        writer.AddInitializer(Module + ".bias", writer.Floats(Module + ".bias", Name), [channels]);
        if (writer.Opset >= 17)
        {
            var node = writer.Node("LayerNormalization", Name, [Input, Module + ".weight", Module + ".bias"], Output);
            node.Attribute.Add(GraphWriter.Int("axis", -1));
            node.Attribute.Add(GraphWriter.Float("epsilon", (float)Epsilon));
            return;
        }
        string p = Name + "/";
        var mean = writer.Node("ReduceMean", p + "mean", [Input], p + "mean");
        mean.Attribute.Add(GraphWriter.Ints("axes", -1));
        writer.Node("Sub", p + "centered", [Input, p + "mean"], p + "centered");
        writer.Node("Pow", p + "squared", [p + "centered", writer.Scalar(p + "two", 2)], p + "squared");
        var variance = writer.Node("ReduceMean", p + "variance", [p + "squared"], p + "variance");
        variance.Attribute.Add(GraphWriter.Ints("axes", -1));
        writer.Node("Add", p + "shifted", [p + "variance", writer.Scalar(p + "epsilon", (float)Epsilon)], p + "shifted");
        writer.Node("Sqrt", p + "std", [p + "shifted"], p + "std");
        writer.Node("Div", p + "normalized", [p + "centered", p + "std"], p + "normalized");
        writer.Node("Mul", p + "scaled", [p + "normalized", Module + ".weight"], p + "scaled");
        writer.Node("Add", Name, [p + "scaled", Module + ".bias"], Output);
    }

    internal override void Couple(CouplingContext context)
    {
        var input = context.Read(this, Input);
        int last = context.Shape(Input).Length - 1;
        if (input.Axis == last && input.Span == 1)
        {
            // Normalised over the channels (channels-last), per position: its vectors shrink with them.
            context.AddMember(Module + ".weight", 0, input.Atoms, ChannelRole.Norm, Module);
            context.AddMember(Module + ".bias", 0, input.Atoms, ChannelRole.Norm, Module);
        }
        context.Write(Output, input);
    }
}

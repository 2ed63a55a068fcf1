using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Compress.Engine.Models.Graph;

/// <summary>
/// BatchNorm over channels: in evaluation <c>(x - running_mean) / sqrt(running_var + eps) * weight + bias</c>, in
/// training batch statistics (TorchSharp's <c>BatchNorm2d</c>, momentum 0.1). One MAC per output element.
/// </summary>
/// <param name="Name">Node name (the module prefix).</param>
/// <param name="Input">Value read.</param>
/// <param name="Output">Value written.</param>
/// <param name="Module">State-dict prefix, e.g. <c>layer1.0.bn1</c> (keys <c>weight</c>, <c>bias</c>,
/// <c>running_mean</c>, <c>running_var</c>).</param>
/// <param name="Epsilon">The module's <c>eps</c>.</param>
public sealed record BatchNormNode(string Name, string Input, string Output, string Module, double Epsilon)
    : GraphNode(Name, [Input], Output)
{
    /// <summary>The state keys after the module prefix, in ONNX BatchNormalization's input order.</summary>
    internal static readonly string[] StateKeys = ["weight", "bias", "running_mean", "running_var"];

    /// <inheritdoc/>
    public override string? StatePrefix => Module;

    internal override nn.Module? CreateModule(IReadOnlyDictionary<string, long[]> stateShapes) =>
        nn.BatchNorm2d(stateShapes[Module + ".running_mean"][0], eps: Epsilon);

    internal override Tensor Forward(IReadOnlyList<Tensor> inputs, nn.Module? module)
    {
        var norm = (BatchNorm2d)module!;
        var x = inputs[0];
        if (x.dtype == norm.weight!.dtype) return norm.call(x);
        // Mixed precision: statistics and normalisation in float32 (as autocast keeps them), the result back in the
        // activations' type.
        using var wide = x.to(norm.weight.dtype);
        using var y = norm.call(wide);
        return y.to(x.dtype);
    }

    internal override NodeCost Infer(ShapeContext context)
    {
        var x = context.Input(this, 0);
        if (x.Length < 1) throw ShapeContext.Mismatch(Module + ".weight", [], "a BatchNorm needs a [C, ...] input");
        long channels = x[0];
        long parameters = context.Vector(this, Module + ".weight", channels) + context.Vector(this, Module + ".bias", channels);
        long buffers = context.Vector(this, Module + ".running_mean", channels) +
            context.Vector(this, Module + ".running_var", channels);
        return new NodeCost(x, ShapeContext.Product(x), parameters, buffers);
    }

    internal override void Lower(Export.GraphWriter writer)
    {
        if (writer.IsFolded(this)) return; // its convolution wrote the folded weights and this node's output
        int channels = checked((int)writer.Shape(Module + ".running_mean", Name)[0]);
        var inputs = new List<string> { Input };
        foreach (string key in StateKeys)
        {
            string name = Module + "." + key;
            writer.AddInitializer(name, writer.Floats(name, Name, channels), [channels]);
            inputs.Add(name);
        }
        var node = writer.Node("BatchNormalization", Name, inputs, Output);
        node.Attribute.Add(Export.GraphWriter.Float("epsilon", (float)Epsilon));
    }

    internal override void Couple(CouplingContext context)
    {
        var atoms = context.AtomsOn(this, Input, 0);
        foreach (string key in StateKeys) context.AddMember(Module + "." + key, 0, atoms, ChannelRole.Norm, Module);
        context.Write(Output, new ValueChannels(atoms, 0, 1));
    }
}

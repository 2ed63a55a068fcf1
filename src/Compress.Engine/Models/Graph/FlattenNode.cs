using static TorchSharp.torch;

namespace Compress.Engine.Models.Graph;

/// <summary>Flattens every dimension after the batch: <c>[N, ...]</c> to <c>[N, product]</c>. Free; a linear layer
/// after it reads <c>product / C</c> features per channel.</summary>
/// <param name="Name">Node name.</param>
/// <param name="Input">Value read.</param>
/// <param name="Output">Value written.</param>
public sealed record FlattenNode(string Name, string Input, string Output) : GraphNode(Name, [Input], Output)
{
    internal override Tensor Forward(IReadOnlyList<Tensor> inputs, nn.Module? module) => inputs[0].flatten(1);

    internal override NodeCost Infer(ShapeContext context) =>
        NodeCost.Free([ShapeContext.Product(context.Input(this, 0))]);

    internal override void Lower(Export.GraphWriter writer) =>
        writer.Node("Flatten", Name, [Input], Output).Attribute.Add(Export.GraphWriter.Int("axis", 1));

    internal override void Couple(CouplingContext context)
    {
        var input = context.Read(this, Input);
        long[] shape = context.Shape(Input);
        if (input.Axis != 0)
        {
            context.Write(Output, context.Opaque(Output, 0, $"flatten '{Name}' interleaves channels on axis {input.Axis + 1}", input));
            return;
        }
        // Channel-major: channel c becomes the block of features c*F .. c*F+F-1.
        long span = input.Span * ShapeContext.Product(shape.Skip(1));
        context.Write(Output, new ValueChannels(input.Atoms, 0, checked((int)span)));
    }
}

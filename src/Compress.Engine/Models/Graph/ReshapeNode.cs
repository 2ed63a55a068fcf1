using Compress.Engine.Export;
using static TorchSharp.torch;

namespace Compress.Engine.Models.Graph;

/// <summary>Reshapes each image to <see cref="Shape"/> (the batch stays first), as the folded
/// <c>Shape/Gather/Concat/Reshape</c> chains of a dynamic-batch PyTorch export do (ShuffleNet's channel shuffle). A
/// reshape to one dimension is a <see cref="FlattenNode"/> instead. Free.</summary>
/// <param name="Name">Node name.</param>
/// <param name="Input">Value read.</param>
/// <param name="Output">Value written.</param>
/// <param name="Shape">Shape of one image after the reshape (all known, no -1).</param>
public sealed record ReshapeNode(string Name, string Input, string Output, IReadOnlyList<long> Shape)
    : GraphNode(Name, [Input], Output)
{
    internal override Tensor Forward(IReadOnlyList<Tensor> inputs, nn.Module? module) =>
        inputs[0].reshape([inputs[0].shape[0], .. Shape]);

    internal override NodeCost Infer(ShapeContext context)
    {
        var x = context.Input(this, 0);
        if (ShapeContext.Product(x) != ShapeContext.Product(Shape) || Shape.Any(d => d < 1))
            throw ShapeContext.Invalid(this, $"cannot reshape {ShapeContext.Text(x)} to {ShapeContext.Text(Shape)}");
        return NodeCost.Free([.. Shape]);
    }

    internal override void Lower(GraphWriter writer) =>
        writer.Node("Reshape", Name, [Input, writer.Int64s(Name + ".shape", [-1, .. Shape])], Output);

    internal override void Couple(CouplingContext context)
    {
        var input = context.Read(this, Input);
        long[] x = context.Shape(Input);
        // Only a reshape that leaves every axis up to the channels alone keeps them where they were.
        bool keeps = input.Axis < Shape.Count && Enumerable.Range(0, input.Axis + 1).All(d => Shape[d] == x[d]);
        context.Write(Output, keeps ? input
            : context.Opaque(Output, 0, $"reshape '{Name}' moves the channels of '{Input}'", input));
    }

    internal override GraphNode Resize(ResizeContext context)
    {
        var input = context.Channels(Input);
        long channels = (long)context.Kept(input.Atoms) * input.Span;
        if (input.Axis >= Shape.Count || Shape[input.Axis] == channels) return this;
        var shape = Shape.ToArray();
        shape[input.Axis] = channels;
        return this with { Shape = shape };
    }
}

using Compress.Engine.Export;
using static TorchSharp.torch;

namespace Compress.Engine.Models.Graph;

/// <summary>Joins values along <see cref="Axis"/> (an axis of the batched tensor, 1 = channels; DenseNet, SqueezeNet's
/// fire modules, GoogLeNet's inception blocks, ShuffleNet). Free.</summary>
/// <param name="Name">Node name.</param>
/// <param name="Inputs">Values joined, in order.</param>
/// <param name="Output">Value written.</param>
/// <param name="Axis">Axis of the batched tensor (1 or more).</param>
public sealed record ConcatNode(string Name, IReadOnlyList<string> Inputs, string Output, int Axis = 1)
    : GraphNode(Name, Inputs, Output)
{
    internal override Tensor Forward(IReadOnlyList<Tensor> inputs, nn.Module? module) => cat(inputs.ToList(), Axis);

    internal override NodeCost Infer(ShapeContext context)
    {
        var first = context.Input(this, 0);
        if (Axis < 1 || Axis > first.Length) throw ShapeContext.Invalid(this, $"axis {Axis} is not an axis of {ShapeContext.Text(first)} after the batch");
        var output = (long[])first.Clone();
        for (int i = 1; i < Inputs.Count; i++)
        {
            var x = context.Input(this, i);
            bool fits = x.Length == first.Length && Enumerable.Range(0, x.Length).All(d => d == Axis - 1 || x[d] == first[d]);
            if (!fits)
                throw ShapeContext.Invalid(this, $"'{Inputs[i]}' {ShapeContext.Text(x)} does not fit '{Inputs[0]}' {ShapeContext.Text(first)} outside axis {Axis}");
            output[Axis - 1] += x[Axis - 1];
        }
        return NodeCost.Free(output);
    }

    internal override void Lower(GraphWriter writer) =>
        writer.Node("Concat", Name, Inputs, Output).Attribute.Add(GraphWriter.Int("axis", Axis));

    internal override void Couple(CouplingContext context)
    {
        var inputs = Inputs.Select(i => context.Read(this, i)).ToList();
        int axis = Axis - 1;
        if (inputs.All(i => i.Axis == axis && i.Span == inputs[0].Span))
        {
            // Along channels: each input keeps its own group, at its offset in the output.
            context.Write(Output, new ValueChannels([.. inputs.SelectMany(i => i.Atoms)], axis, inputs[0].Span));
            return;
        }
        if (inputs.All(i => i.Axis != axis))
        {
            // Along another axis: every input's channels meet the same channels of the output.
            for (int i = 1; i < Inputs.Count; i++) context.Tie(this, Inputs[0], Inputs[i], write: false);
            context.Write(Output, context.Read(this, Inputs[0]));
            return;
        }
        context.Write(Output, context.Opaque(Output, axis, $"concatenation '{Name}' joins values whose channels lie on different axes", [.. inputs]));
    }
}

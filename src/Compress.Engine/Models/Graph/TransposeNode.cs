using Compress.Engine.Export;
using static TorchSharp.torch;

namespace Compress.Engine.Models.Graph;

/// <summary>Permutes the axes of the batched tensor (<see cref="Permutation"/>[0] is 0: the batch stays first), as
/// ConvNeXt's channels-last blocks and ShuffleNet's channel shuffle do. Free.</summary>
/// <param name="Name">Node name.</param>
/// <param name="Input">Value read.</param>
/// <param name="Output">Value written.</param>
/// <param name="Permutation">ONNX's <c>perm</c>: output axis i is input axis <c>Permutation[i]</c>.</param>
public sealed record TransposeNode(string Name, string Input, string Output, IReadOnlyList<int> Permutation)
    : GraphNode(Name, [Input], Output)
{
    internal override Tensor Forward(IReadOnlyList<Tensor> inputs, nn.Module? module) =>
        inputs[0].permute(Permutation.Select(p => (long)p).ToArray());

    internal override NodeCost Infer(ShapeContext context)
    {
        var x = context.Input(this, 0);
        bool valid = Permutation.Count == x.Length + 1 && Permutation[0] == 0 &&
            Permutation.OrderBy(p => p).SequenceEqual(Enumerable.Range(0, x.Length + 1));
        if (!valid)
            throw ShapeContext.Invalid(this, $"permutation [{string.Join(", ", Permutation)}] does not keep the batch first on {ShapeContext.Text(x)}");
        return NodeCost.Free(Permutation.Skip(1).Select(p => x[p - 1]).ToArray());
    }

    internal override void Lower(GraphWriter writer) =>
        writer.Node("Transpose", Name, [Input], Output).Attribute.Add(GraphWriter.Ints("perm", Permutation.Select(p => (long)p).ToArray()));

    internal override void Couple(CouplingContext context)
    {
        var input = context.Read(this, Input);
        if (input.Span != 1)
        {
            context.Write(Output, context.Opaque(Output, 0, $"transpose '{Name}' reorders a flattened value", input));
            return;
        }
        // Output axis i is input axis Permutation[i] (batched axes): the channels move with theirs.
        int axis = Enumerable.Range(1, Permutation.Count - 1).First(i => Permutation[i] - 1 == input.Axis) - 1;
        context.Write(Output, input with { Axis = axis });
    }
}

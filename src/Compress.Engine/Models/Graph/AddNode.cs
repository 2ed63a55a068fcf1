using static TorchSharp.torch;

namespace Compress.Engine.Models.Graph;

/// <summary>
/// Element-wise sum of two values of the same shape (a residual connection: both inputs' channels are tied, which is
/// what channel pruning must respect). Free (torchprofile lists <c>aten::add</c> as free).
/// </summary>
/// <param name="Name">Node name.</param>
/// <param name="Left">First value (the residual branch).</param>
/// <param name="Right">Second value (the shortcut).</param>
/// <param name="Output">Value written.</param>
public sealed record AddNode(string Name, string Left, string Right, string Output) : GraphNode(Name, [Left, Right], Output)
{
    internal override Tensor Forward(IReadOnlyList<Tensor> inputs, nn.Module? module) => inputs[0].add(inputs[1]);

    internal override NodeCost Infer(ShapeContext context)
    {
        var left = context.Input(this, 0);
        var right = context.Input(this, 1);
        if (!left.AsSpan().SequenceEqual(right))
            throw new Diagnostics.CompressException(Diagnostics.DiagnosticCode.ShapeMismatch,
                $"Add '{Name}' sums '{Left}' {ShapeContext.Text(left)} and '{Right}' {ShapeContext.Text(right)}, which differ in shape.",
                hint: "Residual branches must keep the same channels; prune the channels tied by an add together.");
        return NodeCost.Free(left);
    }

    internal override void Lower(Export.GraphWriter writer) => writer.Node("Add", Name, Inputs, Output);

    internal override void Couple(CouplingContext context) => context.Tie(this, Left, Right);
}

using static TorchSharp.torch;

namespace Compress.Engine.Models.Graph;

/// <summary>Mean over height and width, keeping them as size 1: <c>[N, C, H, W]</c> to <c>[N, C, 1, 1]</c>.
/// One MAC per output element (torchprofile counts <c>aten::mean</c> so); channels pass through.</summary>
/// <param name="Name">Node name.</param>
/// <param name="Input">Value read.</param>
/// <param name="Output">Value written.</param>
public sealed record GlobalAveragePoolNode(string Name, string Input, string Output) : GraphNode(Name, [Input], Output)
{
    internal override Tensor Forward(IReadOnlyList<Tensor> inputs, nn.Module? module) =>
        inputs[0].mean([2, 3], keepdim: true);

    internal override NodeCost Infer(ShapeContext context)
    {
        var x = context.Input(this, 0);
        if (x.Length != 3) throw ShapeContext.Invalid(this, $"reads {ShapeContext.Text(x)}, not a [C, H, W] value");
        return new NodeCost([x[0], 1, 1], x[0], 0, 0);
    }

    internal override void Lower(Export.GraphWriter writer) => writer.Node("GlobalAveragePool", Name, Inputs, Output);

    internal override void Couple(CouplingContext context) => context.Spatial(this);
}

using Compress.Engine.Export;
using static TorchSharp.torch;

namespace Compress.Engine.Models.Graph;

/// <summary>Constant padding of height and width (an all-zero pad is dropped at import instead). Free.</summary>
/// <param name="Name">Node name.</param>
/// <param name="Input">Value read.</param>
/// <param name="Output">Value written.</param>
/// <param name="Top">Rows added above.</param>
/// <param name="Left">Columns added on the left.</param>
/// <param name="Bottom">Rows added below.</param>
/// <param name="Right">Columns added on the right.</param>
/// <param name="Value">The value padded with.</param>
public sealed record PadNode(string Name, string Input, string Output, int Top, int Left, int Bottom, int Right, float Value = 0)
    : GraphNode(Name, [Input], Output)
{
    internal override Tensor Forward(IReadOnlyList<Tensor> inputs, nn.Module? module) =>
        nn.functional.pad(inputs[0], [Left, Right, Top, Bottom], TorchSharp.PaddingModes.Constant, Value);

    internal override NodeCost Infer(ShapeContext context)
    {
        var x = context.Input(this, 0);
        if (x.Length != 3 || Top < 0 || Left < 0 || Bottom < 0 || Right < 0)
            throw ShapeContext.Invalid(this, $"pads a {ShapeContext.Text(x)} value; only non-negative padding of [C, H, W] is supported");
        return NodeCost.Free([x[0], x[1] + Top + Bottom, x[2] + Left + Right]);
    }

    internal override void Lower(GraphWriter writer) => writer.Node("Pad", Name,
        [Input, writer.Int64s(Name + ".pads", [0, 0, Top, Left, 0, 0, Bottom, Right]), writer.Scalar(Name + ".value", Value)], Output);

    internal override void Couple(CouplingContext context) => context.Spatial(this);
}

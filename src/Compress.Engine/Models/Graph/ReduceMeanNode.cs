using Compress.Engine.Export;
using static TorchSharp.torch;

namespace Compress.Engine.Models.Graph;

/// <summary>Mean over <see cref="Axes"/> (axes of the batched tensor, never the batch). The mean over height and width
/// is a <see cref="GlobalAveragePoolNode"/> instead; this is what is left, such as the mean over channels of a
/// decomposed LayerNorm. One MAC per output element (torchprofile's <c>aten::mean</c>).</summary>
/// <param name="Name">Node name.</param>
/// <param name="Input">Value read.</param>
/// <param name="Output">Value written.</param>
/// <param name="Axes">Axes of the batched tensor (1 or more), ascending.</param>
/// <param name="KeepDims">Keep the reduced axes as size 1.</param>
public sealed record ReduceMeanNode(string Name, string Input, string Output, IReadOnlyList<int> Axes, bool KeepDims = true)
    : GraphNode(Name, [Input], Output)
{
    internal override Tensor Forward(IReadOnlyList<Tensor> inputs, nn.Module? module) =>
        inputs[0].mean(Axes.Select(a => (long)a).ToArray(), keepdim: KeepDims);

    internal override NodeCost Infer(ShapeContext context)
    {
        var x = context.Input(this, 0);
        if (Axes.Any(a => a < 1 || a > x.Length))
            throw ShapeContext.Invalid(this, $"axes [{string.Join(", ", Axes)}] are not axes of {ShapeContext.Text(x)} after the batch");
        var output = new List<long>();
        for (int d = 0; d < x.Length; d++)
        {
            if (!Axes.Contains(d + 1)) output.Add(x[d]);
            else if (KeepDims) output.Add(1);
        }
        long[] shape = [.. output];
        return new NodeCost(shape, ShapeContext.Product(shape), 0, 0);
    }

    internal override void Lower(GraphWriter writer)
    {
        long[] axes = Axes.Select(a => (long)a).ToArray();
        if (writer.Opset >= 18)
        {
            var node = writer.Node("ReduceMean", Name, [Input, writer.Int64s(Name + ".axes", axes)], Output);
            node.Attribute.Add(GraphWriter.Int("keepdims", KeepDims ? 1 : 0));
        }
        else
        {
            var node = writer.Node("ReduceMean", Name, [Input], Output);
            node.Attribute.Add(GraphWriter.Ints("axes", axes));
            node.Attribute.Add(GraphWriter.Int("keepdims", KeepDims ? 1 : 0));
        }
    }

    internal override void Couple(CouplingContext context)
    {
        var input = context.Read(this, Input);
        if (Axes.Contains(input.Axis + 1))
        {
            context.Write(Output, context.Opaque(Output, input.Axis,
                $"mean '{Name}' is taken over the channels (a LayerNorm not fused at import, or a mean over features)", input));
            return;
        }
        int axis = KeepDims ? input.Axis : input.Axis - Axes.Count(a => a - 1 < input.Axis);
        context.Write(Output, input with { Axis = axis });
    }
}

using Compress.Engine.Export;
using static TorchSharp.torch;

namespace Compress.Engine.Models.Graph;

/// <summary>2-d average pooling with a square window. One MAC per output element (torchprofile's <c>avg_pool2d</c>);
/// channels pass through.</summary>
/// <param name="Name">Node name.</param>
/// <param name="Input">Value read.</param>
/// <param name="Output">Value written.</param>
/// <param name="Kernel">Window size.</param>
/// <param name="Stride">Stride in both directions.</param>
/// <param name="Padding">Zero padding on every side.</param>
/// <param name="CeilMode">Output size rounded up (PyTorch's <c>ceil_mode</c>).</param>
/// <param name="CountIncludePad">Padding counts in the divisor (PyTorch's default true; ONNX's default false).</param>
public sealed record AveragePoolNode(string Name, string Input, string Output, int Kernel, int Stride, int Padding = 0,
    bool CeilMode = false, bool CountIncludePad = true) : GraphNode(Name, [Input], Output)
{
    internal override Tensor Forward(IReadOnlyList<Tensor> inputs, nn.Module? module) =>
        nn.functional.avg_pool2d(inputs[0], [Kernel, Kernel], [Stride, Stride], [Padding, Padding], ceil_mode: CeilMode,
            count_include_pad: CountIncludePad);

    internal override NodeCost Infer(ShapeContext context)
    {
        var x = context.Input(this, 0);
        if (x.Length != 3) throw ShapeContext.Invalid(this, $"reads {ShapeContext.Text(x)}, not a [C, H, W] value");
        long h = ShapeContext.WindowOut(x[1], Kernel, Stride, Padding, 1, CeilMode);
        long w = ShapeContext.WindowOut(x[2], Kernel, Stride, Padding, 1, CeilMode);
        if (h < 1 || w < 1) throw ShapeContext.Invalid(this, $"its output on {ShapeContext.Text(x)} would be empty");
        long[] output = [x[0], h, w];
        return new NodeCost(output, ShapeContext.Product(output), 0, 0);
    }

    internal override void Lower(GraphWriter writer)
    {
        var node = writer.Node("AveragePool", Name, [Input], Output);
        if (CeilMode) node.Attribute.Add(GraphWriter.Int("ceil_mode", 1));
        if (CountIncludePad) node.Attribute.Add(GraphWriter.Int("count_include_pad", 1));
        node.Attribute.Add(GraphWriter.Ints("kernel_shape", Kernel, Kernel));
        node.Attribute.Add(GraphWriter.Ints("pads", Padding, Padding, Padding, Padding));
        node.Attribute.Add(GraphWriter.Ints("strides", Stride, Stride));
    }

    internal override void Couple(CouplingContext context) => context.Spatial(this);
}

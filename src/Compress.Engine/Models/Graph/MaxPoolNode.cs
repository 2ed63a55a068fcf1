using static TorchSharp.torch;

namespace Compress.Engine.Models.Graph;

/// <summary>2-d max pooling with a square window (padding counts as minus infinity). Free; channels pass through.</summary>
/// <param name="Name">Node name.</param>
/// <param name="Input">Value read.</param>
/// <param name="Output">Value written.</param>
/// <param name="Kernel">Window size.</param>
/// <param name="Stride">Stride in both directions.</param>
/// <param name="Padding">Padding on every side.</param>
/// <param name="CeilMode">Output size rounded up (PyTorch's <c>ceil_mode</c>) rather than down.</param>
public sealed record MaxPoolNode(string Name, string Input, string Output, int Kernel, int Stride, int Padding = 0,
    bool CeilMode = false) : GraphNode(Name, [Input], Output)
{
    internal override Tensor Forward(IReadOnlyList<Tensor> inputs, nn.Module? module) =>
        nn.functional.max_pool2d(inputs[0], [Kernel, Kernel], [Stride, Stride], [Padding, Padding], ceil_mode: CeilMode);

    internal override NodeCost Infer(ShapeContext context)
    {
        var x = context.Input(this, 0);
        if (x.Length != 3) throw ShapeContext.Invalid(this, $"reads {ShapeContext.Text(x)}, not a [C, H, W] value");
        long h = ShapeContext.WindowOut(x[1], Kernel, Stride, Padding, 1, CeilMode);
        long w = ShapeContext.WindowOut(x[2], Kernel, Stride, Padding, 1, CeilMode);
        if (h < 1 || w < 1)
            throw new Diagnostics.CompressException(Diagnostics.DiagnosticCode.ShapeMismatch,
                $"Max pool '{Name}' would give an empty output on its input {ShapeContext.Text(x)}.",
                hint: "The input image is too small for this architecture.");
        return NodeCost.Free([x[0], h, w]);
    }

    internal override void Lower(Export.GraphWriter writer)
    {
        if (Kernel < 1 || Stride < 1 || Padding < 0)
            throw writer.Unsupported(this, "kernel and stride must be >= 1 and padding >= 0");
        var node = writer.Node("MaxPool", Name, [Input], Output);
        if (CeilMode) node.Attribute.Add(Export.GraphWriter.Int("ceil_mode", 1));
        node.Attribute.Add(Export.GraphWriter.Ints("kernel_shape", Kernel, Kernel));
        node.Attribute.Add(Export.GraphWriter.Ints("pads", Padding, Padding, Padding, Padding));
        node.Attribute.Add(Export.GraphWriter.Ints("strides", Stride, Stride));
    }

    internal override void Couple(CouplingContext context) => context.Spatial(this);
}

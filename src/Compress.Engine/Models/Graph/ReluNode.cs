using static TorchSharp.torch;

namespace Compress.Engine.Models.Graph;

/// <summary>Element-wise <c>max(x, 0)</c>. Free (no MACs); channels pass through.</summary>
/// <param name="Name">Node name.</param>
/// <param name="Input">Value read.</param>
/// <param name="Output">Value written.</param>
public sealed record ReluNode(string Name, string Input, string Output) : GraphNode(Name, [Input], Output)
{
    internal override Tensor Forward(IReadOnlyList<Tensor> inputs, nn.Module? module) => nn.functional.relu(inputs[0]);

    internal override NodeCost Infer(ShapeContext context) => NodeCost.Free(context.Input(this, 0));

    internal override void Lower(Export.GraphWriter writer) => writer.Node("Relu", Name, Inputs, Output);

    internal override void Couple(CouplingContext context) => context.PassThrough(this);
}

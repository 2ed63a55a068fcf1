using Compress.Engine.Models.Graph;
using static TorchSharp.torch;

namespace Compress.Engine.Tests.Models;

/// <summary>A node kind that runs and has shapes but neither an ONNX lowering nor a channel rule (tests of the coded
/// errors for such kinds).</summary>
internal sealed record SoftmaxNode(string Name, string Input, string Output) : GraphNode(Name, [Input], Output)
{
    internal override Tensor Forward(IReadOnlyList<Tensor> inputs, nn.Module? module) => inputs[0].softmax(1);

    internal override NodeCost Infer(ShapeContext context) => NodeCost.Free(context.Input(this, 0));
}

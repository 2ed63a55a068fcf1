using Compress.Engine.Models;
using Compress.Engine.Models.Graph;
using static TorchSharp.torch;

namespace Compress.Engine.Tests.Models;

/// <summary>
/// Interprets a <see cref="ModelGraph"/> with TorchSharp functional ops on a model's own state-dict tensors (eval-mode
/// BatchNorm). Independent of the models' forward code, so agreement with <c>forward</c> proves the descriptions.
/// </summary>
internal static class GraphEvaluator
{
    public static Tensor Run(ClassifierModel model, ModelGraph graph, Tensor input)
    {
        var state = model.OrderedStateDict().ToDictionary(p => p.Key, p => p.Value);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var values = new Dictionary<string, Tensor> { [graph.Input] = input };
        foreach (var node in graph.Nodes)
        {
            Tensor x = values[node.Inputs[0]];
            values[node.Output] = node switch
            {
                ConvNode c => nn.functional.conv2d(x, state[c.Module + ".weight"], c.HasBias ? state[c.Module + ".bias"] : null,
                    strides: [c.Stride, c.Stride], padding: [c.Padding, c.Padding], dilation: [c.Dilation, c.Dilation], groups: c.Groups),
                BatchNormNode b => nn.functional.batch_norm(x, state[b.Module + ".running_mean"], state[b.Module + ".running_var"],
                    state[b.Module + ".weight"], state[b.Module + ".bias"], training: false, eps: b.Epsilon),
                ReluNode => nn.functional.relu(x),
                MaxPoolNode p => nn.functional.max_pool2d(x, [p.Kernel, p.Kernel], [p.Stride, p.Stride], [p.Padding, p.Padding]),
                GlobalAveragePoolNode => nn.functional.adaptive_avg_pool2d(x, [1, 1]),
                AddNode => x.add(values[node.Inputs[1]]),
                FlattenNode => x.flatten(1),
                LinearNode l => nn.functional.linear(x, state[l.Module + ".weight"], l.HasBias ? state[l.Module + ".bias"] : null),
                _ => throw new InvalidOperationException("unknown node " + node.Name),
            };
        }
        return values[graph.Output].MoveToOuterDisposeScope();
    }
}

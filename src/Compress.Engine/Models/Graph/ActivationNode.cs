using Compress.Engine.Export;
using static TorchSharp.torch;

namespace Compress.Engine.Models.Graph;

/// <summary>
/// An element-wise function of one value (<see cref="Activation"/>); <see cref="Alpha"/> and <see cref="Beta"/> are its
/// constants where it has any (HardSigmoid's slope and offset, Clip's bounds). Free under the MAC convention
/// (torchprofile ignores activations); channels pass through.
/// </summary>
/// <param name="Name">Node name.</param>
/// <param name="Input">Value read.</param>
/// <param name="Output">Value written.</param>
/// <param name="Function">The function.</param>
/// <param name="Alpha">HardSigmoid's slope, Clip's lower bound; otherwise unused.</param>
/// <param name="Beta">HardSigmoid's offset, Clip's upper bound; otherwise unused.</param>
public sealed record ActivationNode(string Name, string Input, string Output, Activation Function, float Alpha = 0,
    float Beta = 0) : GraphNode(Name, [Input], Output)
{
    internal override Tensor Forward(IReadOnlyList<Tensor> inputs, nn.Module? module)
    {
        var x = inputs[0];
        switch (Function)
        {
            case Activation.Sigmoid: return x.sigmoid();
            case Activation.HardSigmoid:
            {
                using var scaled = x.mul(Alpha);
                using var shifted = scaled.add(Beta);
                return shifted.clamp(0, 1);
            }
            case Activation.HardSwish: return nn.functional.hardswish(x);
            case Activation.Clip: return x.clamp(Alpha, Beta);
            case Activation.Silu: return nn.functional.silu(x);
            case Activation.Gelu: return nn.functional.gelu(x);
            case Activation.Tanh: return x.tanh();
            case Activation.Erf: return x.erf();
            case Activation.Sqrt: return x.sqrt();
            default: throw new InvalidOperationException("unreachable: " + Function);
        }
    }

    internal override NodeCost Infer(ShapeContext context) => NodeCost.Free(context.Input(this, 0));

    internal override void Lower(GraphWriter writer)
    {
        switch (Function)
        {
            case Activation.Sigmoid: writer.Node("Sigmoid", Name, [Input], Output); break;
            case Activation.Tanh: writer.Node("Tanh", Name, [Input], Output); break;
            case Activation.Erf: writer.Node("Erf", Name, [Input], Output); break;
            case Activation.Sqrt: writer.Node("Sqrt", Name, [Input], Output); break;
            case Activation.HardSigmoid:
            {
                var node = writer.Node("HardSigmoid", Name, [Input], Output);
                node.Attribute.Add(GraphWriter.Float("alpha", Alpha));
                node.Attribute.Add(GraphWriter.Float("beta", Beta));
                break;
            }
            case Activation.HardSwish:
                if (writer.Opset >= 14)
                {
                    writer.Node("HardSwish", Name, [Input], Output);
                }
                else
                {
                    var gate = writer.Node("HardSigmoid", Name + "/gate", [Input], Name + "/gate");
                    gate.Attribute.Add(GraphWriter.Float("alpha", 1f / 6));
                    gate.Attribute.Add(GraphWriter.Float("beta", 0.5f));
                    writer.Node("Mul", Name, [Input, Name + "/gate"], Output);
                }
                break;
            case Activation.Clip:
                writer.Node("Clip", Name, [Input, writer.Scalar(Name + ".min", Alpha), writer.Scalar(Name + ".max", Beta)], Output);
                break;
            case Activation.Silu:
                writer.Node("Sigmoid", Name + "/sigmoid", [Input], Name + "/sigmoid");
                writer.Node("Mul", Name, [Input, Name + "/sigmoid"], Output);
                break;
            case Activation.Gelu:
                if (writer.Opset >= 20)
                {
                    writer.Node("Gelu", Name, [Input], Output);
                }
                else
                {
                    writer.Node("Div", Name + "/div", [Input, writer.Scalar(Name + ".sqrt2", MathF.Sqrt(2))], Name + "/div");
                    writer.Node("Erf", Name + "/erf", [Name + "/div"], Name + "/erf");
                    writer.Node("Add", Name + "/add", [Name + "/erf", writer.Scalar(Name + ".one", 1)], Name + "/add");
                    writer.Node("Mul", Name + "/mul", [Input, Name + "/add"], Name + "/mul");
                    writer.Node("Mul", Name, [Name + "/mul", writer.Scalar(Name + ".half", 0.5f)], Output);
                }
                break;
            default: throw new InvalidOperationException("unreachable: " + Function);
        }
    }

    internal override void Couple(CouplingContext context) => context.PassThrough(this);
}

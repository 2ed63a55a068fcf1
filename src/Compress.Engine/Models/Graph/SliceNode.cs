using Compress.Engine.Export;
using static TorchSharp.torch;

namespace Compress.Engine.Models.Graph;

/// <summary>Keeps indices <c>[Start, End)</c> of one axis of the batched tensor (ShuffleNet's channel split; an ONNX
/// <c>Split</c> becomes one slice per output). Free.</summary>
/// <param name="Name">Node name.</param>
/// <param name="Input">Value read.</param>
/// <param name="Output">Value written.</param>
/// <param name="Axis">Axis of the batched tensor (1 or more).</param>
/// <param name="Start">First index kept.</param>
/// <param name="End">One past the last index kept.</param>
public sealed record SliceNode(string Name, string Input, string Output, int Axis, long Start, long End)
    : GraphNode(Name, [Input], Output)
{
    internal override Tensor Forward(IReadOnlyList<Tensor> inputs, nn.Module? module) =>
        inputs[0].narrow(Axis, Start, End - Start);

    internal override NodeCost Infer(ShapeContext context)
    {
        var x = context.Input(this, 0);
        if (Axis < 1 || Axis > x.Length || Start < 0 || End > x[Axis - 1] || End <= Start)
            throw ShapeContext.Invalid(this, $"[{Start}, {End}) on axis {Axis} is not a non-empty part of {ShapeContext.Text(x)}");
        var output = (long[])x.Clone();
        output[Axis - 1] = End - Start;
        return NodeCost.Free(output);
    }

    internal override void Lower(GraphWriter writer) => writer.Node("Slice", Name,
        [Input, writer.Int64s(Name + ".starts", [Start]), writer.Int64s(Name + ".ends", [End]), writer.Int64s(Name + ".axes", [Axis])], Output);

    internal override void Couple(CouplingContext context)
    {
        var input = context.Read(this, Input);
        int axis = Axis - 1;
        if (input.Axis != axis)
        {
            context.Write(Output, input);
            return;
        }
        if (Start % input.Span != 0 || End % input.Span != 0)
        {
            context.Write(Output, context.Opaque(Output, axis, $"slice '{Name}' cuts through a flattened channel", input));
            return;
        }
        // A split along channels: the output is that part of the input's channels.
        int from = (int)(Start / input.Span), to = (int)(End / input.Span);
        context.Write(Output, new ValueChannels(input.Atoms[from..to], axis, input.Span));
    }

    internal override GraphNode Resize(ResizeContext context)
    {
        var input = context.Channels(Input);
        if (input.Axis != Axis - 1) return this;
        int from = (int)(Start / input.Span), to = (int)(End / input.Span);
        long start = (long)context.Kept(input.Atoms[..from]) * input.Span;
        long end = start + ((long)context.Kept(input.Atoms[from..to]) * input.Span);
        return start == Start && end == End ? this : this with { Start = start, End = end };
    }
}

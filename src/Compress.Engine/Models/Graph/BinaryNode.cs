using Compress.Engine.Export;
using static TorchSharp.torch;

namespace Compress.Engine.Models.Graph;

/// <summary>
/// An element-wise <see cref="BinaryOp"/> with NumPy broadcasting, of two values or of one value and a constant: a
/// tensor the node owns (<see cref="ConstantKey"/>, a trainable parameter such as ConvNeXt's layer scale, or a
/// buffer) or a plain number (<see cref="Scalar"/>). An addition of two values of the same shape is an
/// <see cref="AddNode"/> instead (a residual connection). Only Mul costs MACs (one per output element).
/// </summary>
/// <param name="Name">Node name.</param>
/// <param name="Inputs">One value (with a constant) or two values.</param>
/// <param name="Output">Value written.</param>
/// <param name="Op">The operation.</param>
/// <param name="ConstantKey">State key of the constant operand, or null.</param>
/// <param name="Scalar">The constant operand as a number, or null.</param>
/// <param name="ConstantFirst">The constant is the left operand (<c>c - x</c>, <c>c / x</c>).</param>
/// <param name="Trainable">Whether the tensor at <see cref="ConstantKey"/> is trained.</param>
public sealed record BinaryNode(string Name, IReadOnlyList<string> Inputs, string Output, BinaryOp Op,
    string? ConstantKey = null, float? Scalar = null, bool ConstantFirst = false, bool Trainable = true)
    : GraphNode(Name, Inputs, Output)
{
    /// <inheritdoc/>
    public override string? StatePrefix => ConstantKey;

    internal override IReadOnlyList<OwnedTensor> OwnedTensors => ConstantKey is null ? [] : [new OwnedTensor(ConstantKey, Trainable)];

    internal override Tensor Forward(IReadOnlyList<Tensor> inputs, nn.Module? module)
    {
        var x = inputs[0];
        if (Inputs.Count == 2) return Apply(x, inputs[1]);
        if (Scalar is float s && !ConstantFirst)
        {
            // libtorch's scalar overloads: no tensor made for the number on every forward.
            return Op switch
            {
                BinaryOp.Add => x.add(s),
                BinaryOp.Sub => x.sub(s),
                BinaryOp.Mul => x.mul(s),
                BinaryOp.Div => x.div(s),
                BinaryOp.Pow => x.pow(s),
                _ => throw new InvalidOperationException("unreachable: " + Op),
            };
        }
        if (Scalar is float first)
        {
            using var scalar = tensor(first, dtype: x.dtype, device: x.device);
            return Apply(scalar, x);
        }
        var constant = ClassifierModel.OwnedTensor(module!, ConstantKey!);
        return ConstantFirst ? Apply(constant, x) : Apply(x, constant);
    }

    private Tensor Apply(Tensor a, Tensor b) => Op switch
    {
        BinaryOp.Add => a.add(b),
        BinaryOp.Sub => a.sub(b),
        BinaryOp.Mul => a.mul(b),
        BinaryOp.Div => a.div(b),
        BinaryOp.Pow => a.pow(b),
        _ => throw new InvalidOperationException("unreachable: " + Op),
    };

    internal override NodeCost Infer(ShapeContext context)
    {
        var x = context.Input(this, 0);
        long[] output;
        long parameters = 0;
        if (Inputs.Count == 2)
        {
            var y = context.Input(this, 1);
            if (x.Length != y.Length)
                throw ShapeContext.Invalid(this, $"its inputs {ShapeContext.Text(x)} and {ShapeContext.Text(y)} differ in rank");
            output = Broadcast(x, y) ?? throw ShapeContext.Invalid(this,
                $"its inputs {ShapeContext.Text(x)} and {ShapeContext.Text(y)} do not broadcast");
        }
        else if (ConstantKey is not null)
        {
            var c = context.State(this, ConstantKey);
            if (c.Length > x.Length + 1 || (c.Length == x.Length + 1 && c[0] != 1))
                throw ShapeContext.Mismatch(ConstantKey, c, $"it does not broadcast against '{Inputs[0]}' {ShapeContext.Text(x)} with a batch");
            long[] aligned = c.Length == x.Length + 1 ? c[1..] : c;
            var padded = Enumerable.Repeat(1L, x.Length - aligned.Length).Concat(aligned).ToArray();
            output = Broadcast(x, padded) ?? throw ShapeContext.Mismatch(ConstantKey, c,
                $"it does not broadcast against '{Inputs[0]}' {ShapeContext.Text(x)}");
            if (!output.AsSpan().SequenceEqual(x))
                throw ShapeContext.Mismatch(ConstantKey, c, $"it would grow '{Inputs[0]}' {ShapeContext.Text(x)}");
            if (Trainable) parameters = ShapeContext.Product(c);
        }
        else
        {
            output = x;
        }
        long macs = Op == BinaryOp.Mul ? ShapeContext.Product(output) : 0;
        return new NodeCost(output, macs, parameters, Trainable || ConstantKey is null ? 0 : ShapeContext.Product(context.State(this, ConstantKey)));
    }

    private static long[]? Broadcast(long[] a, long[] b)
    {
        var result = new long[a.Length];
        for (int i = 0; i < a.Length; i++)
        {
            if (a[i] == b[i] || b[i] == 1) result[i] = a[i];
            else if (a[i] == 1) result[i] = b[i];
            else return null;
        }
        return result;
    }

    internal override void Lower(GraphWriter writer)
    {
        string op = Op.ToString();
        if (Inputs.Count == 2)
        {
            writer.Node(op, Name, Inputs, Output);
            return;
        }
        string constant;
        if (Scalar is float s)
        {
            constant = writer.Scalar(Name + ".value", s);
        }
        else
        {
            var shape = writer.Shape(ConstantKey!, Name);
            writer.AddInitializer(ConstantKey!, writer.Floats(ConstantKey!, Name), shape);
            constant = ConstantKey!;
        }
        writer.Node(op, Name, ConstantFirst ? [constant, Inputs[0]] : [Inputs[0], constant], Output);
    }

    internal override void Couple(CouplingContext context)
    {
        if (Inputs.Count == 2)
        {
            context.Tie(this, Inputs[0], Inputs[1]);
            return;
        }
        var input = context.Read(this, Inputs[0]);
        if (ConstantKey is not null)
        {
            // A constant as long as the channel axis (a layer scale, a per-channel shift) is indexed by the channels.
            long[] x = context.Shape(Inputs[0]);
            long[] c = context.StateShapes[ConstantKey];
            int dim = input.Axis + c.Length - x.Length; // NumPy alignment from the right
            long channels = (long)input.Atoms.Length * input.Span;
            if (dim >= 0 && dim < c.Length && c[dim] == channels && channels > 1)
                context.AddMember(ConstantKey, dim, input.Atoms, ChannelRole.Other, ConstantKey, input.Span);
        }
        context.Write(Output, input);
    }
}

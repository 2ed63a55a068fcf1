using Compress.Engine.Export;
using static TorchSharp.torch;

namespace Compress.Engine.Models.Graph;

/// <summary>
/// ShuffleNet's channel shuffle: the channels, seen as <see cref="Groups"/> groups of <c>C / Groups</c>, are
/// interleaved (<c>[N, g, C/g, H, W]</c> transposed to <c>[N, C/g, g, H, W]</c>, then flattened back). PyTorch exports
/// it as Reshape, Transpose, Reshape; the importer recognises that and the exporter writes it so again. Free.
/// </summary>
/// <param name="Name">Node name.</param>
/// <param name="Input">Value read (<c>[N, C, H, W]</c>).</param>
/// <param name="Output">Value written.</param>
/// <param name="Groups">Groups the channels are shuffled between.</param>
public sealed record ChannelShuffleNode(string Name, string Input, string Output, int Groups) : GraphNode(Name, [Input], Output)
{
    internal override Tensor Forward(IReadOnlyList<Tensor> inputs, nn.Module? module)
    {
        var x = inputs[0];
        long n = x.shape[0], c = x.shape[1], h = x.shape[2], w = x.shape[3];
        using var grouped = x.view(n, Groups, c / Groups, h, w);
        using var swapped = grouped.transpose(1, 2);
        return swapped.reshape(n, c, h, w);
    }

    internal override NodeCost Infer(ShapeContext context)
    {
        var x = context.Input(this, 0);
        if (x.Length != 3 || Groups < 1 || x[0] % Groups != 0)
            throw ShapeContext.Invalid(this, $"cannot shuffle {ShapeContext.Text(x)} between {Groups} groups");
        return NodeCost.Free(x);
    }

    internal override void Lower(GraphWriter writer)
    {
        var x = writer.ValueShape(Input);
        string p = Name + "/";
        writer.Node("Reshape", p + "grouped", [Input, writer.Int64s(p + "grouped_shape", [-1, Groups, x[0] / Groups, x[1], x[2]])], p + "grouped");
        writer.Node("Transpose", p + "swapped", [p + "grouped"], p + "swapped").Attribute.Add(GraphWriter.Ints("perm", 0, 2, 1, 3, 4));
        writer.Node("Reshape", Name, [p + "swapped", writer.Int64s(p + "shape", [-1, x[0], x[1], x[2]])], Output);
    }

    internal override void Couple(CouplingContext context)
    {
        var atoms = context.AtomsOn(this, Input, 0);
        int per = atoms.Length / Groups;
        // Output channel i*g + j is input channel j*per + i. For the shuffle to stay one after pruning, every block must
        // lose the same positions: position i of every block is tied into one channel.
        var output = new int[atoms.Length];
        for (int j = 0; j < Groups; j++)
        {
            for (int i = 0; i < per; i++)
            {
                if (j > 0) context.UniteAtoms(atoms[i], atoms[(j * per) + i]);
                output[(i * Groups) + j] = atoms[(j * per) + i];
            }
        }
        context.Write(Output, new ValueChannels(output, 0, 1));
    }
}

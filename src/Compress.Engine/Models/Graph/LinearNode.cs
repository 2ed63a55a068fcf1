using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Compress.Engine.Models.Graph;

/// <summary>A fully connected layer <c>x W^T + b</c> over the last axis; sizes come from <c>Module.weight</c>
/// <c>[out, in]</c>. MACs: output elements x in (in x out on a flat input). Written as ONNX <c>Gemm</c> on a flat
/// input, as <c>MatMul</c> + <c>Add</c> on a channels-last one (ConvNeXt's pointwise layers).</summary>
/// <param name="Name">Node name (the module prefix).</param>
/// <param name="Input">Value read (<c>[N, ..., in]</c>).</param>
/// <param name="Output">Value written.</param>
/// <param name="Module">State-dict prefix, e.g. <c>fc</c>.</param>
/// <param name="HasBias">Whether <c>Module.bias</c> exists.</param>
public sealed record LinearNode(string Name, string Input, string Output, string Module, bool HasBias = true)
    : GraphNode(Name, [Input], Output)
{
    /// <inheritdoc/>
    public override string? StatePrefix => Module;

    internal override nn.Module? CreateModule(IReadOnlyDictionary<string, long[]> stateShapes)
    {
        long[] w = stateShapes[Module + ".weight"];
        return nn.Linear(w[1], w[0], hasBias: HasBias);
    }

    internal override Tensor Forward(IReadOnlyList<Tensor> inputs, nn.Module? module)
    {
        var linear = (Linear)module!;
        var x = inputs[0];
        if (x.dtype == linear.weight!.dtype) return linear.call(x);
        // Mixed precision: as ConvNode, the float32 weights are cast for this call only.
        using var w = linear.weight.to(x.dtype);
        using var b = linear.bias?.to(x.dtype);
        return nn.functional.linear(x, w, b);
    }

    internal override NodeCost Infer(ShapeContext context)
    {
        var x = context.Input(this, 0);
        string key = Module + ".weight";
        var w = context.State(this, key);
        if (w.Length != 2 || x.Length < 1 || w[1] != x[^1])
            throw ShapeContext.Mismatch(key, w, $"a linear layer's [out, in] weight must match the last axis of its input '{Input}' {ShapeContext.Text(x)} ({(x.Length == 0 ? 0 : x[^1])} features)");
        long parameters = ShapeContext.Product(w);
        if (HasBias) parameters += context.Vector(this, Module + ".bias", w[0]);
        long[] output = [.. x[..^1], w[0]];
        return new NodeCost(output, ShapeContext.Product(output) * w[1], parameters, 0);
    }

    internal override void Lower(Export.GraphWriter writer)
    {
        var weightShape = writer.Shape(Module + ".weight", Name);
        if (weightShape.Length != 2)
            throw writer.Unsupported(this, $"weight '{Module}.weight' has shape {ShapeContext.Text(weightShape)}, not [out, in]");
        int outFeatures = checked((int)weightShape[0]);
        writer.AddInitializer(Module + ".weight", writer.Floats(Module + ".weight", Name), weightShape);
        if (writer.ValueShape(Input).Length > 1)
        {
            // Channels-last: MatMul with the transposed weight (ONNX Runtime folds the Transpose at load), then the bias.
            string p = Name + "/";
            writer.Node("Transpose", p + "weight_t", [Module + ".weight"], p + "weight_t")
                .Attribute.Add(Export.GraphWriter.Ints("perm", 1, 0));
            if (!HasBias)
            {
                writer.Node("MatMul", Name, [Input, p + "weight_t"], Output);
                return;
            }
            writer.AddInitializer(Module + ".bias", writer.Floats(Module + ".bias", Name, outFeatures), [outFeatures]);
            writer.Node("MatMul", p + "matmul", [Input, p + "weight_t"], p + "matmul");
            writer.Node("Add", Name, [p + "matmul", Module + ".bias"], Output);
            return;
        }
        var inputs = new List<string> { Input, Module + ".weight" };
        if (HasBias)
        {
            writer.AddInitializer(Module + ".bias", writer.Floats(Module + ".bias", Name, outFeatures), [outFeatures]);
            inputs.Add(Module + ".bias");
        }
        writer.Node("Gemm", Name, inputs, Output).Attribute.Add(Export.GraphWriter.Int("transB", 1));
    }

    internal override void Couple(CouplingContext context)
    {
        var input = context.Read(this, Input);
        int last = context.Shape(Input).Length - 1;
        if (input.Axis != last)
        {
            // A layer over another axis (token mixing): the channels pass through untouched.
            context.Write(Output, input);
            return;
        }
        long[] w = context.StateShapes[Module + ".weight"];
        var output = context.Produce(checked((int)w[0]));
        context.AddMember(Module + ".weight", 0, output, ChannelRole.Producer, Module);
        context.AddMember(Module + ".bias", 0, output, ChannelRole.Producer, Module);
        context.AddMember(Module + ".weight", 1, input.Atoms, ChannelRole.Consumer, Module, input.Span);
        context.Write(Output, new ValueChannels(output, last, 1));
    }
}

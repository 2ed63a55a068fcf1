using System.Globalization;
using Compress.Engine.Models.Graph;

namespace Compress.Engine.Models.Onnx;

/// <summary>
/// What the report says about an imported model, so nothing is silently frozen: the file, its opset, names and op
/// histogram, every trainable tensor (with the initializer it came from), the tensors kept but not trained
/// (BatchNorm running statistics, embedded preprocessing), and the numbers built into nodes (Clip bounds, scalar
/// operands), which are constants of the graph.
/// </summary>
/// <param name="File">The ONNX file.</param>
/// <param name="Sha256">Its SHA-256.</param>
/// <param name="Opset">Its default-domain opset.</param>
/// <param name="InputName">Its input's name.</param>
/// <param name="OutputName">Its output's name.</param>
/// <param name="OpHistogram">ONNX op type to count.</param>
/// <param name="Trainable">State key to the initializer it was read from, for every trained tensor.</param>
/// <param name="NotTrained">State keys of tensors kept but not trained by gradients.</param>
/// <param name="Constants">Node name to the numbers built into it.</param>
public sealed record ImportSummary(string File, string Sha256, int Opset, string InputName, string OutputName,
    IReadOnlyDictionary<string, int> OpHistogram, IReadOnlyDictionary<string, string> Trainable, IReadOnlyList<string> NotTrained,
    IReadOnlyDictionary<string, string> Constants)
{
    /// <summary>The summary of <paramref name="model"/>, or null for a built-in architecture.</summary>
    public static ImportSummary? Of(ClassifierModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (model.Origin is not { } origin) return null;
        var sources = model.StateSources ?? new Dictionary<string, string>();
        var trainable = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, _) in model.named_parameters()) trainable[name] = sources.GetValueOrDefault(name, name);
        var notTrained = model.OrderedStateDict().Select(p => p.Key)
            .Where(k => !trainable.ContainsKey(k) && !k.EndsWith(".num_batches_tracked", StringComparison.Ordinal)).ToList();
        var c = CultureInfo.InvariantCulture;
        var constants = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var node in model.DescribeGraph().Nodes)
        {
            string? text = node switch
            {
                ActivationNode { Function: Activation.Clip } a => string.Create(c, $"Clip [{a.Alpha}, {a.Beta}]"),
                ActivationNode { Function: Activation.HardSigmoid } a => string.Create(c, $"HardSigmoid alpha {a.Alpha}, beta {a.Beta}"),
                BinaryNode { Scalar: float s } b => string.Create(c, $"{b.Op} by {s}"),
                _ => null,
            };
            if (text is not null) constants[node.Name] = text;
        }
        return new ImportSummary(origin.Path, origin.Sha256, origin.Opset, origin.InputName, origin.OutputName, origin.OpHistogram,
            trainable, notTrained, constants);
    }
}

using System.Globalization;
using Compress.Engine.Analysis;
using Compress.Engine.Diagnostics;
using Compress.Shared;
using TorchSharp;
using static TorchSharp.torch;

namespace Compress.Engine.Pruning.FineGrained;

/// <summary>
/// Fine-grained magnitude pruning with a sparsity per layer, the EfficientML.ai lab's <c>fine_grained_prune</c>: each
/// weight tensor is pruned on its own magnitudes, not against the whole network (that is
/// <see cref="GlobalMagnitudePruner"/>). Prunable parameters are the conv and linear weights, i.e. every parameter
/// with more than one dimension, named as in <c>named_parameters()</c> (<c>layer1.0.conv1.weight</c>).
/// </summary>
/// <remarks>
/// For a tensor of n elements and sparsity s, as the lab does:
/// <list type="bullet">
/// <item>s = 0 keeps everything and s = 1 prunes everything;</item>
/// <item>otherwise k = round(n × s), Python's <c>round</c>: the product in double precision, halves to even
/// (<see cref="ZeroCount"/>); the threshold is the k-th smallest |w| (<c>kthvalue(k)</c>, computed in the tensor's own
/// element type) and an entry is kept only when |w| is strictly greater than it.</item>
/// </list>
/// Ties: every entry whose magnitude equals the threshold is pruned, so a tensor with repeated magnitudes loses more
/// than k entries (never fewer). This differs on purpose from <see cref="GlobalMagnitudePruner"/>, which prunes exactly
/// k. One deliberate deviation: when 0 &lt; s &lt; 1 but k rounds to 0 the lab raises (<c>kthvalue(0)</c> is out of
/// range); here the tensor is kept whole. The mask is applied with <see cref="PruningMask.Apply"/>, which writes +0.0
/// where the lab's <c>tensor.mul_(mask)</c> leaves -0.0 for negative weights (equal as numbers).
/// </remarks>
public static class LayerwiseMagnitudePruner
{
    internal const string NamesHint =
        "Prunable weights are the conv and linear weights (dim > 1), named as named_parameters() lists them, e.g. 'layer1.0.conv1.weight'.";

    /// <summary>The names of <paramref name="model"/>'s prunable weights (every parameter with dim &gt; 1), in module order.</summary>
    public static IReadOnlyList<string> PrunableParameters(nn.Module model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var names = new List<string>();
        foreach (var (name, parameter) in model.named_parameters())
        {
            if (parameter.dim() > 1) names.Add(name);
        }
        return names;
    }

    /// <summary>
    /// How many entries a tensor of <paramref name="elements"/> loses at <paramref name="sparsity"/> before ties:
    /// <c>round(elements * sparsity)</c> with Python's rounding (double product, halves to even).
    /// </summary>
    public static long ZeroCount(long elements, double sparsity) =>
        (long)Math.Round(elements * sparsity, MidpointRounding.ToEven);

    /// <summary>
    /// The mask pruning each parameter named in <paramref name="sparsityByParameter"/> to its own sparsity; parameters not
    /// named get no mask and are left alone. The model is not changed (call <see cref="PruningMask.Apply"/>). Throws
    /// CMP0750 for a name that is not a prunable weight (with a did-you-mean), CMP0751 for a sparsity outside [0, 1],
    /// CMP0107 for NaN or infinite weights.
    /// </summary>
    public static PruningMask Compute(nn.Module model, IReadOnlyDictionary<string, double> sparsityByParameter)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(sparsityByParameter);
        var parameters = Resolve(model, sparsityByParameter.Keys);
        foreach (var (name, sparsity) in sparsityByParameter) ValidateSparsity(name, sparsity);

        var masks = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            foreach (var (name, sparsity) in sparsityByParameter)
            {
                using var scope = torch.NewDisposeScope();
                masks.Add(name, KeptMask(name, parameters[name], sparsity).MoveToOuterDisposeScope());
            }
            return new PruningMask(masks);
        }
        catch
        {
            foreach (var m in masks.Values) m.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The lab's mask for one tensor: bool, true where kept, on the tensor's device (see the class remarks). Throws
    /// CMP0107 when the tensor holds NaN or infinity. The caller owns the result (it joins the current dispose scope).
    /// </summary>
    internal static Tensor KeptMask(string name, Tensor weight, double sparsity)
    {
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        var w = weight.detach();
        if (w.numel() > 0 && !torch.isfinite(w).all().item<bool>()) throw MagnitudeScan.NonFinite([name]);
        long k = ZeroCount(w.numel(), sparsity);
        Tensor kept;
        if (sparsity >= 1.0) kept = torch.zeros_like(w, dtype: ScalarType.Bool);
        else if (sparsity <= 0.0 || k == 0) kept = torch.ones_like(w, dtype: ScalarType.Bool);
        else
        {
            var magnitude = w.abs();
            var threshold = magnitude.reshape(-1).kthvalue(k, 0).values;
            kept = magnitude.gt(threshold);
        }
        return kept.MoveToOuterDisposeScope();
    }

    /// <summary>CMP0751 unless <paramref name="sparsity"/> is a number in [0, 1].</summary>
    internal static void ValidateSparsity(string name, double sparsity, string? path = null, int? line = null, int? column = null)
    {
        if (sparsity >= 0.0 && sparsity <= 1.0) return;
        throw new CompressException(DiagnosticCode.InvalidLayerSparsity,
            $"The sparsity of '{name}' is {sparsity.ToString("R", CultureInfo.InvariantCulture)}; it must be in [0, 1].", path,
            "A sparsity is the fraction of the layer's weights removed: 0.7 removes 70 %.")
        { Line = line, Column = column };
    }

    /// <summary>
    /// The parameters called <paramref name="names"/>, by name. CMP0750 lists every name that is not a prunable weight,
    /// each with the closest prunable name when one is near enough to be a typo.
    /// </summary>
    internal static Dictionary<string, Tensor> Resolve(nn.Module model, IEnumerable<string> names)
    {
        var all = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, parameter) in model.named_parameters()) all[name] = parameter;
        var prunable = all.Where(p => p.Value.dim() > 1).Select(p => p.Key).ToList();
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var problems = new List<string>();
        foreach (var name in names)
        {
            if (all.TryGetValue(name, out var parameter) && parameter.dim() > 1)
            {
                result[name] = parameter;
                continue;
            }
            string? close = NameSuggestions.Closest(name, prunable, Math.Max(2, name.Length / 3));
            string what = parameter is null ? $"'{name}' is not a parameter of the model" : $"'{name}' is a 1-d parameter (bias or BatchNorm)";
            problems.Add(close is null ? what : $"{what} (did you mean '{close}'?)");
        }
        if (problems.Count == 0) return result;
        string message = problems.Count == 1
            ? $"Cannot prune: {problems[0]}."
            : $"Cannot prune {problems.Count.ToString(CultureInfo.InvariantCulture)} names: {string.Join("; ", problems)}.";
        throw new CompressException(DiagnosticCode.UnknownPrunableParameter, message, hint: NamesHint);
    }
}

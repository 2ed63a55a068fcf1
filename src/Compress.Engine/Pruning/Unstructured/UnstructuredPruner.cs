using System.Globalization;
using Compress.Engine.Diagnostics;
using Compress.Engine.Models;
using Compress.Engine.Pruning.Importance;
using Compress.Engine.Analysis;
using static TorchSharp.torch;

namespace Compress.Engine.Pruning.Unstructured;

/// <summary>
/// Unstructured pruning of the conv and linear weights (the classifier excluded unless asked) by any criterion, in a
/// global or per-layer scope, with one exact definition so results compare across criteria and with PyTorch: for a
/// fraction s of n entries exactly k = round-half-to-even(s x n) entries are pruned, those lowest in the order (score,
/// |w|, flat index) ascending; in the global scope the flat index runs over the weights in module order. Entries the
/// current mask has already pruned sort first, so masks only grow. The one exception is
/// <c>random-bernoulli</c>, which prunes each weight independently with probability s (already pruned ones stay).
/// </summary>
public static class UnstructuredPruner
{
    /// <summary>The weights in scope: every parameter with more than one dimension, in module order, without the
    /// classifier unless <paramref name="includeClassifier"/>.</summary>
    public static IReadOnlyList<string> ScopeOf(ClassifierModel model, bool includeClassifier)
    {
        ArgumentNullException.ThrowIfNull(model);
        string? classifier = includeClassifier ? null : Classifier(model);
        return [.. model.named_parameters().Where(p => p.parameter.dim() > 1 && p.name != classifier).Select(p => p.name)];
    }

    /// <summary>The weight of the layer that writes the logits (walking back through layers without state).</summary>
    private static string? Classifier(ClassifierModel model)
    {
        var graph = model.DescribeGraph();
        var writer = graph.Nodes.ToDictionary(n => n.Output, StringComparer.Ordinal);
        string value = graph.Output;
        while (writer.TryGetValue(value, out var node))
        {
            if (node.StatePrefix is { } prefix && model.named_parameters().Any(p => p.name == prefix + ".weight")) return prefix + ".weight";
            if (node.Inputs.Count != 1) return null;
            value = node.Inputs[0];
        }
        return null;
    }

    /// <summary>
    /// The mask pruning <paramref name="fraction"/> of the weights in scope (plus whatever <paramref name="current"/>
    /// already prunes). The model is not changed. CMP0301 for a fraction outside [0, 1], CMP0107 for NaN or infinite
    /// weights or scores, CMP0751 for a per-layer fraction outside [0, 1], CMP0750 for a per-layer name not in scope.
    /// </summary>
    public static PruningMask Compute(ClassifierModel model, double fraction, UnstructuredPruningOptions options,
        ImportanceContext context, PruningMask? current = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(context);
        PruneRateParser.Validate(fraction);
        var names = ScopeOf(model, options.IncludeClassifier);
        var parameters = model.named_parameters().ToDictionary(p => p.name, p => p.parameter, StringComparer.Ordinal);
        CheckLayerFractions(options, names);

        var masks = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            var scores = new List<Tensor>();
            var magnitudes = new List<Tensor>();
            for (int i = 0; i < names.Count; i++)
            {
                var weight = parameters[names[i]];
                if (!weight.isfinite().all().item<bool>())
                    throw NonFinite($"Weight '{names[i]}' has NaN or infinite values.");
                var score = options.Criterion.Score(names[i], i, weight, context).flatten();
                if (score.isnan().any().item<bool>() || score.isinf().any().item<bool>())
                    throw NonFinite($"The {options.Criterion.Name} scores of '{names[i]}' have NaN or infinite values.");
                if (current?.Masks.TryGetValue(names[i], out var kept) == true)
                    score = score.masked_fill(kept.to(score.device).flatten().logical_not(), double.NegativeInfinity);
                scores.Add(score);
                magnitudes.Add(weight.detach().to(ScalarType.Float64).abs().flatten());
            }

            if (options.Criterion is RandomImportance { Independent: true })
            {
                // Each weight on its own: pruned when its uniform score falls below its fraction (already pruned ones stay).
                for (int i = 0; i < names.Count; i++)
                {
                    var weight = parameters[names[i]];
                    double s = options.Scope == PruneScope.Layer ? options.LayerFractions?.GetValueOrDefault(names[i], fraction) ?? fraction : fraction;
                    masks[names[i]] = scores[i].ge(s).reshape(weight.shape).to(weight.device).DetachFromDisposeScope();
                }
            }
            else if (options.Scope == PruneScope.Global)
            {
                var keep = Keep(cat(scores, 0), cat(magnitudes, 0), fraction);
                long offset = 0;
                for (int i = 0; i < names.Count; i++)
                {
                    var weight = parameters[names[i]];
                    masks[names[i]] = keep.narrow(0, offset, weight.numel()).reshape(weight.shape).to(weight.device).DetachFromDisposeScope();
                    offset += weight.numel();
                }
            }
            else
            {
                for (int i = 0; i < names.Count; i++)
                {
                    var weight = parameters[names[i]];
                    double s = options.LayerFractions?.GetValueOrDefault(names[i], fraction) ?? fraction;
                    masks[names[i]] = Keep(scores[i], magnitudes[i], s).reshape(weight.shape).to(weight.device).DetachFromDisposeScope();
                }
            }
            return new PruningMask(masks);
        }
        catch
        {
            foreach (var m in masks.Values) m.Dispose();
            throw;
        }
    }

    /// <summary>True where kept: all but the k = round-half-to-even(s x n) lowest in (score, |w|, index) order.</summary>
    internal static Tensor Keep(Tensor scores, Tensor magnitudes, double fraction)
    {
        long n = scores.numel();
        long k = PruneRates.PrunedCount(fraction, n);
        var keep = ones(n, dtype: ScalarType.Bool, device: scores.device);
        if (k == 0) return keep;
        // Two stable sorts give the lexicographic order: by |w| (ties keep the index order), then by score.
        var byMagnitude = magnitudes.sort(0, descending: false, stable: true).Indices;
        var byScore = scores.index_select(0, byMagnitude).sort(0, descending: false, stable: true).Indices;
        var order = byMagnitude.index_select(0, byScore);
        keep.index_fill_(0, order.narrow(0, 0, k), false);
        return keep;
    }

    private static void CheckLayerFractions(UnstructuredPruningOptions options, IReadOnlyList<string> names)
    {
        if (options.LayerFractions is not { } layers) return;
        if (options.Scope != PruneScope.Layer)
            throw new CompressException(DiagnosticCode.InvalidOption, "Per-layer fractions need the layer scope.",
                hint: "Use --scope layer, or drop the per-layer fractions.");
        var known = names.ToHashSet(StringComparer.Ordinal);
        foreach (var (name, s) in layers)
        {
            if (!known.Contains(name))
                throw new CompressException(DiagnosticCode.UnknownPrunableParameter,
                    $"'{name}' is not a weight in the pruning scope ({string.Join(", ", names.Take(4))}, ...).",
                    hint: "Name conv and linear weights as named_parameters() lists them; the classifier needs --include-classifier.");
            if (double.IsNaN(s) || s < 0 || s > 1)
                throw new CompressException(DiagnosticCode.InvalidLayerSparsity, string.Create(CultureInfo.InvariantCulture,
                    $"The fraction of '{name}' is {s:R}, outside [0, 1]."));
        }
    }

    private static CompressException NonFinite(string message) =>
        new(DiagnosticCode.NonFiniteWeights, message, hint: "Check the weights file; a diverged training run leaves NaN weights.");
}

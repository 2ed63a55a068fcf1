using System.Globalization;
using Compress.Engine.Diagnostics;

namespace Compress.Engine.Pruning.FineGrained;

/// <summary>
/// Turns a <see cref="SensitivityResult"/> into one sparsity per layer: as high as the accuracy budget allows, then
/// higher on the large layers if the model is still bigger than a size target.
/// </summary>
public static class SparsityProposal
{
    /// <summary>
    /// Proposes a sparsity for every scanned layer. Give at most one target: <paramref name="targetParameters"/>, the
    /// largest acceptable number of kept parameters, or <paramref name="targetSizeFraction"/>, the same as a fraction of
    /// <see cref="SensitivityResult.ModelParameterCount"/> (target = floor(fraction × count)). Sizes count every model
    /// parameter; unscanned ones (biases, BatchNorm, layers left out of the scan) are always kept.
    /// </summary>
    /// <remarks>
    /// <para>Phase 1, accuracy budget: for each layer, walk its scanned sparsities upwards and take the last one before
    /// the first whose accuracy falls below <c>DenseAccuracy - maxAccuracyDrop</c> (0 when even the lowest falls below).
    /// Stopping at the first failure, rather than taking any passing sparsity, ignores a noisy recovery at a higher
    /// sparsity and makes the choice monotonic: a larger budget never gives a lower sparsity.</para>
    /// <para>Phase 2, size target: kept = ModelParameterCount - Σ round(n × s). While kept exceeds the target, raise one
    /// layer to its next scanned sparsity: the layer whose step removes the most parameters,
    /// n × (s_next - s) after rounding, so large layers are raised first (they are usually the least sensitive, and
    /// one step of theirs removes the most); ties go to the larger layer, then to the earlier one. Stop when the
    /// target is met (one step may overshoot it) or every layer is at the scan's highest sparsity; then
    /// <see cref="SparsityProposalResult.TargetReached"/> is false and the note says so. Phase 2 ignores the accuracy
    /// budget; <see cref="LayerProposal.RaisedForTarget"/> marks the layers it raised. The sequence of steps does not
    /// depend on the target, so a smaller target never keeps more parameters.</para>
    /// Throws CMP0754 for a negative or non-finite budget, a fraction outside (0, 1], a negative count, or both targets.
    /// </remarks>
    public static SparsityProposalResult Propose(SensitivityResult scan, double maxAccuracyDrop, long? targetParameters = null,
        double? targetSizeFraction = null)
    {
        ArgumentNullException.ThrowIfNull(scan);
        long? target = Target(scan, maxAccuracyDrop, targetParameters, targetSizeFraction);
        double floor = scan.DenseAccuracy - maxAccuracyDrop;
        int count = scan.Layers.Count;
        var levels = new double[count][];
        var accuracies = new double[count][];
        var within = new double[count];
        var current = new int[count]; // index into levels; -1 = dense (sparsity 0, not a scanned point)
        for (int l = 0; l < count; l++)
        {
            var points = scan.Layers[l].Points.OrderBy(p => p.Sparsity).ToArray();
            levels[l] = [.. points.Select(p => p.Sparsity)];
            accuracies[l] = [.. points.Select(p => p.Accuracy)];
            int chosen = -1;
            while (chosen + 1 < points.Length && points[chosen + 1].Accuracy >= floor) chosen++;
            current[l] = chosen;
            within[l] = SparsityAt(levels[l], chosen);
        }

        long kept = scan.ModelParameterCount - Enumerable.Range(0, count).Sum(l => Pruned(scan.Layers[l], SparsityAt(levels[l], current[l])));
        if (target is long goal)
        {
            while (kept > goal)
            {
                int best = -1;
                long bestGain = -1;
                for (int l = 0; l < count; l++)
                {
                    if (current[l] + 1 >= levels[l].Length) continue;
                    var layer = scan.Layers[l];
                    long gain = Pruned(layer, levels[l][current[l] + 1]) - Pruned(layer, SparsityAt(levels[l], current[l]));
                    if (best < 0 || gain > bestGain || (gain == bestGain && layer.ParameterCount > scan.Layers[best].ParameterCount))
                    {
                        best = l;
                        bestGain = gain;
                    }
                }
                if (best < 0) break;
                current[best]++;
                kept -= bestGain;
            }
        }

        var proposals = new List<LayerProposal>(count);
        for (int l = 0; l < count; l++)
        {
            var layer = scan.Layers[l];
            double sparsity = SparsityAt(levels[l], current[l]);
            double accuracy = current[l] < 0 ? scan.DenseAccuracy : accuracies[l][current[l]];
            proposals.Add(new LayerProposal(layer.Name, layer.ParameterCount, sparsity, Pruned(layer, sparsity), accuracy, within[l],
                sparsity > within[l]));
        }
        bool? reached = target is long t ? kept <= t : null;
        return new SparsityProposalResult
        {
            DenseAccuracy = scan.DenseAccuracy,
            MaxAccuracyDrop = maxAccuracyDrop,
            ModelParameterCount = scan.ModelParameterCount,
            KeptParameters = kept,
            TargetParameters = target,
            TargetReached = reached,
            Note = reached == false
                ? string.Create(CultureInfo.InvariantCulture,
                    $"Target not reachable: with every scanned layer at the scan's highest sparsity {kept:N0} parameters remain, more than the target {target:N0}. Scan higher sparsities or more layers.")
                : null,
            Layers = proposals,
        };
    }

    private static double SparsityAt(double[] levels, int index) => index < 0 ? 0.0 : levels[index];

    private static long Pruned(LayerSensitivity layer, double sparsity) => LayerwiseMagnitudePruner.ZeroCount(layer.ParameterCount, sparsity);

    private static long? Target(SensitivityResult scan, double maxAccuracyDrop, long? targetParameters, double? targetSizeFraction)
    {
        if (!double.IsFinite(maxAccuracyDrop) || maxAccuracyDrop < 0)
            throw Invalid($"The accuracy drop must be a number of percentage points >= 0 (got {Format(maxAccuracyDrop)}).");
        if (targetParameters is not null && targetSizeFraction is not null)
            throw Invalid("Give a target parameter count or a target size fraction, not both.");
        if (targetParameters is long n)
        {
            if (n < 0) throw Invalid($"The target parameter count must be >= 0 (got {n.ToString(CultureInfo.InvariantCulture)}).");
            return n;
        }
        if (targetSizeFraction is double f)
        {
            if (!(f > 0 && f <= 1)) throw Invalid($"The target size fraction must be in (0, 1] (got {Format(f)}).");
            return (long)Math.Floor(f * scan.ModelParameterCount);
        }
        return null;
    }

    private static string Format(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    private static CompressException Invalid(string message) => new(DiagnosticCode.InvalidSensitivityOption, message,
        hint: "maxAccuracyDrop is in percentage points; a target is a kept parameter count or a fraction of the model's parameters.");
}

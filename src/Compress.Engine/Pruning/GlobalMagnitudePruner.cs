using Compress.Engine.Analysis;
using TorchSharp;
using static TorchSharp.torch;

namespace Compress.Engine.Pruning;

/// <summary>
/// Global L1 unstructured pruning, as <c>torch.nn.utils.prune.global_unstructured(..., L1Unstructured)</c> over every
/// trainable parameter: the k = round-half-to-even(rate × N) entries with the smallest |w| across the whole network
/// are removed, ties broken deterministically by the lowest index in the flattened parameter vector (module order,
/// weight then bias).
/// </summary>
public static class GlobalMagnitudePruner
{
    /// <summary>
    /// The mask that prunes <paramref name="rate"/> of <paramref name="module"/>'s trainable parameters. The module is
    /// not changed (call <see cref="PruningMask.Apply"/>). Throws CMP0301 for a rate outside [0, 1] and CMP0107 for
    /// NaN or infinite weights.
    /// </summary>
    /// <remarks>
    /// The threshold v, the k-th smallest |w|, comes from the same radix selection as the analysis (no sort) for CPU
    /// float32/float16/bfloat16 parameters, and from a float64 sort on the device otherwise. Entries with |w| &lt; v
    /// are pruned, plus the first k - count(|w| &lt; v) entries with |w| = v in flat order.
    /// </remarks>
    public static PruningMask Compute(nn.Module module, double rate)
    {
        ArgumentNullException.ThrowIfNull(module);
        PruneRateParser.Validate(rate);
        var parameters = TrainableParameters.From(module);
        long n = parameters.Count;
        long k = PruneRates.PrunedCount(rate, n);
        var (threshold, below) = k == 0 ? (double.NegativeInfinity, 0L) : Threshold(parameters, k);
        long ties = k - below;

        var masks = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        // Scalars hold native handles too: made once, disposed explicitly.
        using var cut = threshold.ToScalar();
        try
        {
            using var noGrad = torch.no_grad();
            for (int t = 0; t < parameters.TensorCount; t++)
            {
                using var scope = torch.NewDisposeScope();
                var p = parameters.Tensors[t].detach();
                var magnitude = p.abs();
                Tensor kept;
                if (k == 0)
                {
                    kept = torch.ones_like(p, dtype: ScalarType.Bool);
                }
                else if (ties <= 0)
                {
                    kept = magnitude >= cut;
                }
                else
                {
                    kept = magnitude > cut;
                    var equal = magnitude == cut;
                    long count = equal.sum().item<long>();
                    if (count > ties)
                    {
                        // The cut falls inside this tensor: prune its first `ties` equal entries, keep the rest.
                        var order = equal.reshape(-1).cumsum(0, ScalarType.Int64).reshape(p.shape);
                        using var rank = ties.ToScalar();
                        kept = kept | (equal & (order > rank));
                    }
                    ties -= Math.Min(count, ties);
                }
                masks.Add(parameters.Names[t], kept.MoveToOuterDisposeScope());
            }
            return new PruningMask(masks);
        }
        catch
        {
            foreach (var m in masks.Values) m.Dispose();
            throw;
        }
    }

    /// <summary>The k-th smallest |w| (1 &lt;= k &lt;= N) and how many entries are strictly smaller.</summary>
    private static (double Value, long Below) Threshold(TrainableParameters parameters, long k)
    {
        if (parameters.AllCpuFloat32Compatible())
        {
            using var scan = MagnitudeScan.Run(parameters, sumSquares: false);
            var prefix = scan.PrefixCounts();
            var (bucket, rank) = MagnitudeScan.Locate(k, prefix);
            var elements = scan.Collect([bucket], centralMoments: false);
            var (bits, below) = elements.Select(bucket, rank);
            return (BitConverter.UInt32BitsToSingle(bits), prefix[bucket] + below);
        }

        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        var device = parameters.Tensors[0].device;
        var flats = parameters.Tensors.Select(p => p.detach().reshape(-1).to(ScalarType.Float64, device)).ToArray();
        var bad = new List<string>();
        for (int t = 0; t < flats.Length; t++)
        {
            if (flats[t].numel() > 0 && !torch.isfinite(flats[t]).all().item<bool>()) bad.Add(parameters.Names[t]);
        }
        if (bad.Count > 0) throw MagnitudeScan.NonFinite(bad);
        var magnitude = torch.cat(flats, 0).abs_();
        var sorted = magnitude.sort(0).Values;
        double value = sorted[k - 1].item<double>();
        long smaller = (magnitude < value).sum().item<long>();
        return (value, smaller);
    }
}

using TorchSharp;
using static TorchSharp.torch;

namespace Compress.Engine.Analysis;

/// <summary>
/// The libtorch path of <see cref="ParameterStatistics"/>: float64 on the parameters' device (the first parameter's
/// device when they are spread), |w| sorted descending, cumulative sum of squares, gathered at N - k - 1.
/// </summary>
internal static class TorchStatistics
{
    public static ParameterStatistics Compute(TrainableParameters parameters, long[] prunedCounts)
    {
        long n = parameters.Count;
        int tensors = parameters.TensorCount;
        var sum2 = new double[tensors];
        var sum4 = new double[tensors];
        var kept = new double[prunedCounts.Length];
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        var device = tensors > 0 ? parameters.Tensors[0].device : torch.CPU;
        var flats = new Tensor[tensors];
        for (int t = 0; t < tensors; t++)
        {
            var x = parameters.Tensors[t].detach().reshape(-1).to(ScalarType.Float64, device);
            flats[t] = x;
        }
        CheckFinite(parameters, flats);
        for (int t = 0; t < tensors; t++)
        {
            var x = flats[t];
            if (x.numel() == 0) continue;
            var d = x - x.mean();
            var d2 = d * d;
            sum2[t] = d2.sum().item<double>();
            sum4[t] = (d2 * d2).sum().item<double>();
        }
        if (n == 0) return new ParameterStatistics(kept, 0, sum2, sum4);

        var all = torch.cat(flats, 0);
        var sorted = all.abs().sort(0, descending: true).Values;
        var cumulative = (sorted * sorted).cumsum(0);
        double total = cumulative[n - 1].item<double>();
        var index = new long[prunedCounts.Length];
        for (int i = 0; i < prunedCounts.Length; i++) index[i] = Math.Clamp(n - prunedCounts[i] - 1, 0, n - 1);
        var picked = cumulative.index_select(0, torch.tensor(index, device: device)).cpu();
        var values = picked.data<double>().ToArray();
        for (int i = 0; i < prunedCounts.Length; i++) kept[i] = prunedCounts[i] >= n ? 0 : values[i];
        return new ParameterStatistics(kept, total, sum2, sum4);
    }

    private static void CheckFinite(TrainableParameters parameters, Tensor[] flats)
    {
        var bad = new List<string>();
        for (int t = 0; t < flats.Length; t++)
        {
            if (flats[t].numel() == 0) continue;
            using var finite = torch.isfinite(flats[t]).all();
            if (!finite.item<bool>()) bad.Add(parameters.Names[t]);
        }
        if (bad.Count > 0) throw MagnitudeScan.NonFinite(bad);
    }
}

namespace Compress.Engine.Analysis;

/// <summary>The rate grid of the method and the pruned count at a rate.</summary>
internal static class PruneRates
{
    /// <summary>Number of rates on the curve (0, 0.01, …, 1).</summary>
    public const int Steps = 101;

    /// <summary>
    /// <c>torch.linspace(0, 1, 101)</c> in float32, bit for bit as libtorch's CPU kernel makes it: step = (end -
    /// start) / (steps - 1) in float32; indices below steps/2 count up from start, the rest down from end; and the
    /// kernel fills blocks of 8 (one AVX2 vector) as base + j × step from the block's first value. Plain
    /// <c>i / 100f</c> differs from torch in 25 of the 101 values.
    /// </summary>
    public static float[] Linspace(float start, float end, int steps)
    {
        const int Vector = 8;
        var result = new float[steps];
        if (steps == 1)
        {
            result[0] = start;
            return result;
        }
        float step = (end - start) / (steps - 1);
        int halfway = steps / 2;
        float Scalar(int i) => i < halfway ? start + step * i : end - step * (steps - i - 1);
        int idx = 0;
        for (; idx + Vector <= steps; idx += Vector)
        {
            float baseValue = Scalar(idx);
            for (int j = 0; j < Vector; j++) result[idx + j] = baseValue + j * step;
        }
        for (; idx < steps; idx++) result[idx] = Scalar(idx);
        return result;
    }

    /// <summary>The method's 101 rates.</summary>
    public static float[] Grid() => Linspace(0f, 1f, Steps);

    /// <summary>round-half-to-even(rate × N), what <c>torch.nn.utils.prune</c> removes.</summary>
    public static long PrunedCount(double rate, long count) =>
        (long)Math.Round(rate * count, MidpointRounding.ToEven);
}

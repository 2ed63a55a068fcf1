namespace Compress.Engine.Analysis;

/// <summary>Pearson kurtosis m4 / m2² with population moments, two-pass in float64.</summary>
internal static class PearsonKurtosis
{
    /// <summary>The kurtosis, or NaN when the values have zero variance (or there are none).</summary>
    public static double Of(IReadOnlyList<double> values)
    {
        int n = values.Count;
        if (n == 0) return double.NaN;
        double mean = 0;
        foreach (double v in values) mean += v;
        mean /= n;
        double s2 = 0, s4 = 0;
        foreach (double v in values)
        {
            double d = v - mean, d2 = d * d;
            s2 += d2;
            s4 += d2 * d2;
        }
        return FromCentralSums(n, s2, s4);
    }

    /// <summary>(Σd⁴ / n) / (Σd² / n)², NaN when Σd² is zero.</summary>
    public static double FromCentralSums(long n, double sum2, double sum4)
    {
        if (n == 0 || sum2 == 0) return double.NaN;
        double m2 = sum2 / n, m4 = sum4 / n;
        return m4 / (m2 * m2);
    }
}

using System.Globalization;
using Compress.Engine.Diagnostics;
using static TorchSharp.torch;

namespace Compress.Engine.Analysis;

/// <summary>
/// The cosine-knee method of Mason-Williams &amp; Dahlqvist, "What Makes a Good Prune?" (ICLR 2024), computed exactly:
/// the cosine-similarity curve of global L1 unstructured pruning at the 101 rates of <c>linspace(0, 1, 101)</c>, the
/// knee nearest (1, 1), and the kurtosis-of-kurtoses safe rate.
/// </summary>
/// <remarks>
/// The paper's code makes 101 pruned float32 copies and takes their cosine with the original; that float32 curve is
/// off by up to about 0.03 on an 11M-parameter ResNet-18. Here cos(p) = sqrt(Σ kept w² / Σ w²) in float64 (the pruned
/// vector is the original with entries zeroed, so its dot product with the original is its own squared norm), from
/// exact order statistics of |w|. Conventions: cos = 1 when nothing is pruned (k = 0) and 0 once the kept sum of
/// squares is 0 (rate 1, or an all-zero network at any k &gt; 0), matching torch's cosine of a zero vector.
/// </remarks>
public static class PruneAnalyzer
{
    /// <summary>
    /// Analyses <paramref name="module"/>'s trainable parameters (module order, weight then bias; buffers such as
    /// BatchNorm running statistics are excluded). Warnings (CMP0302 zero-variance tensors left out, CMP0303 safe
    /// rate clamped) go to <paramref name="sink"/>. Throws <see cref="CompressException"/> with CMP0107 (NaN or
    /// infinity), CMP0108 (dtype), CMP0302 (zero-variance tensors with <see cref="AnalysisOptions.Strict"/>) or CMP0304
    /// (kurtosis of kurtoses undefined).
    /// </summary>
    public static PruneAnalysis Analyze(nn.Module module, AnalysisOptions? options = null, IDiagnosticSink? sink = null)
    {
        ArgumentNullException.ThrowIfNull(module);
        options ??= new AnalysisOptions();
        sink ??= DiagnosticSinks.None;
        var parameters = TrainableParameters.From(module);
        long n = parameters.Count;
        if (n == 0)
        {
            throw new CompressException(DiagnosticCode.KurtosisUndefined, "The model has no trainable parameters to analyse.",
                hint: "The model needs at least two non-constant parameter tensors.");
        }
        var backend = ChooseBackend(parameters, options.Backend);

        var rates = PruneRates.Grid();
        var prunedCounts = new long[rates.Length];
        for (int i = 0; i < rates.Length; i++) prunedCounts[i] = PruneRates.PrunedCount(rates[i], n);

        var stats = backend == AnalysisBackend.Fast
            ? FastStatistics.Compute(parameters, prunedCounts)
            : TorchStatistics.Compute(parameters, prunedCounts);

        var cosine = new double[rates.Length];
        for (int i = 0; i < rates.Length; i++)
        {
            cosine[i] = prunedCounts[i] == 0 ? 1.0
                : stats.TotalSumSquares > 0 ? Math.Sqrt(Math.Min(1.0, stats.KeptSumSquares[i] / stats.TotalSumSquares))
                : 0.0;
        }
        var knee = FindKnee(rates, cosine);

        var (kurtoses, excluded) = TensorKurtoses(parameters, stats);
        if (excluded.Count > 0)
        {
            string message = string.Create(CultureInfo.InvariantCulture,
                $"{excluded.Count} zero-variance tensor(s) have no kurtosis and were left out of the kurtosis of kurtoses: {string.Join(", ", excluded)}.");
            const string hint = "Expected for an untrained BatchNorm (gamma all ones, beta all zeros); train first, or accept the warning.";
            if (options.Strict) throw new CompressException(DiagnosticCode.ZeroVarianceTensors, message, hint: hint);
            sink.Report(Diagnostic.Warning(DiagnosticCode.ZeroVarianceTensors, message, hint: hint));
        }
        if (kurtoses.Count < 2)
        {
            throw new CompressException(DiagnosticCode.KurtosisUndefined, string.Create(CultureInfo.InvariantCulture,
                $"The kurtosis of kurtoses needs at least two tensors with non-zero variance; this model has {kurtoses.Count}."),
                hint: "The model needs at least two non-constant parameter tensors.");
        }
        double k = PearsonKurtosis.Of(kurtoses.Select(t => t.Kurtosis).ToArray());
        if (double.IsNaN(k))
        {
            throw new CompressException(DiagnosticCode.KurtosisUndefined,
                "The kurtosis of kurtoses is undefined: every tensor has the same kurtosis.",
                hint: "The model needs parameter tensors whose kurtoses differ.");
        }

        double rawModifier = k < Math.E ? 1.0 / Math.Log2(k) : 1.0 / Math.Log(k);
        double rawSafeRate = knee.Rate * rawModifier;
        // K < 2 is exactly where 1/log2(K) exceeds 1; testing K itself also catches K = 1 (infinite modifier) and a K
        // rounded just below 1 (negative modifier), which only the clamp keeps meaningful.
        bool clamped = k < 2.0;
        double modifier = clamped ? 1.0 : rawModifier;
        double safeRate = clamped ? knee.Rate : rawSafeRate;
        if (clamped)
        {
            sink.Report(Diagnostic.Warning(DiagnosticCode.SafeRateClamped, string.Create(CultureInfo.InvariantCulture,
                $"The kurtosis of kurtoses K = {k:G6} is below 2, so the modifier 1/log2(K) = {rawModifier:G6} exceeds 1; the safe rate was clamped to the knee rate {knee.Rate:G6} (unclamped {rawSafeRate:G6})."),
                hint: "None needed; the raw values are in the result."));
        }

        return new PruneAnalysis
        {
            ParameterCount = n,
            ParameterNames = parameters.Names,
            Rates = rates,
            Cosine = cosine,
            PrunedCounts = prunedCounts,
            Knee = knee,
            Kurtoses = kurtoses,
            KurtosisOfKurtoses = k,
            RawModifier = rawModifier,
            Modifier = modifier,
            RawSafeRate = rawSafeRate,
            SafeRate = safeRate,
            Clamped = clamped,
            ExcludedTensors = excluded,
            Backend = backend,
        };
    }

    /// <summary>The first index minimising the Euclidean distance from (rate, cosine) to (1, 1).</summary>
    internal static KneePoint FindKnee(float[] rates, double[] cosine)
    {
        int best = 0;
        double bestDistance = double.PositiveInfinity;
        for (int i = 0; i < rates.Length; i++)
        {
            double dr = 1.0 - rates[i], dc = 1.0 - cosine[i];
            double d = Math.Sqrt(dr * dr + dc * dc);
            if (d < bestDistance)
            {
                bestDistance = d;
                best = i;
            }
        }
        return new KneePoint(best, rates[best], cosine[best], bestDistance);
    }

    private static (List<TensorKurtosis> Kurtoses, List<string> Excluded) TensorKurtoses(TrainableParameters parameters,
        ParameterStatistics stats)
    {
        var kurtoses = new List<TensorKurtosis>();
        var excluded = new List<string>();
        for (int t = 0; t < parameters.TensorCount; t++)
        {
            long count = parameters.CountOf(t);
            double kurtosis = PearsonKurtosis.FromCentralSums(count, stats.CentralSum2[t], stats.CentralSum4[t]);
            if (double.IsNaN(kurtosis)) excluded.Add(parameters.Names[t]);
            else kurtoses.Add(new TensorKurtosis(parameters.Names[t], count, kurtosis));
        }
        return (kurtoses, excluded);
    }

    private static AnalysisBackend ChooseBackend(TrainableParameters parameters, AnalysisBackend requested)
    {
        for (int t = 0; t < parameters.TensorCount; t++)
        {
            var dtype = parameters.Tensors[t].dtype;
            bool fast = TrainableParameters.IsFloat32Compatible(dtype);
            if (!fast && dtype != ScalarType.Float64)
            {
                throw new CompressException(DiagnosticCode.UnsupportedDType,
                    $"Parameter '{parameters.Names[t]}' has element type {dtype}; the analysis needs floating-point weights.",
                    hint: "Save float32 (or float16/bfloat16/float64) weights.");
            }
            if (!fast && requested == AnalysisBackend.Fast)
            {
                throw new CompressException(DiagnosticCode.UnsupportedDType,
                    $"Parameter '{parameters.Names[t]}' is {dtype}; the fast analysis works on float32 values.",
                    hint: "Use the torch backend for float64 parameters, or convert the model to float32.");
            }
        }
        if (requested != AnalysisBackend.Auto) return requested;
        return parameters.AllCpuFloat32Compatible() ? AnalysisBackend.Fast : AnalysisBackend.Torch;
    }
}

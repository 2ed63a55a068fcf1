namespace Compress.Engine.Analysis;

/// <summary>
/// Everything the cosine-knee method (Mason-Williams &amp; Dahlqvist, ICLR 2024) derives from a network's weights:
/// the exact cosine-similarity curve of global L1 unstructured pruning, its knee, the kurtosis of kurtoses and the
/// safe prune rate.
/// </summary>
public sealed record PruneAnalysis
{
    /// <summary>N: the number of trainable parameter elements (the length of the flattened parameter vector).</summary>
    public required long ParameterCount { get; init; }

    /// <summary>The trainable parameters in module order (weight then bias), as they were flattened.</summary>
    public required IReadOnlyList<string> ParameterNames { get; init; }

    /// <summary>The 101 prune rates <c>torch.linspace(0, 1, 101)</c> as float32 values, bit for bit.</summary>
    public required float[] Rates { get; init; }

    /// <summary>
    /// Cosine similarity between the original parameter vector and the one with the <see cref="PrunedCounts"/>[i]
    /// smallest |w| zeroed, exact in float64: sqrt(kept sum of squares / total sum of squares). 1 at rate 0, 0 once
    /// the pruned vector is all zeros (rate 1).
    /// </summary>
    public required double[] Cosine { get; init; }

    /// <summary>Entries removed at each rate: round-half-to-even(rate × N), as <c>torch.nn.utils.prune</c> does.</summary>
    public required long[] PrunedCounts { get; init; }

    /// <summary>The curve point nearest (1, 1).</summary>
    public required KneePoint Knee { get; init; }

    /// <summary>Pearson kurtosis of every tensor used for <see cref="KurtosisOfKurtoses"/>, in module order.</summary>
    public required IReadOnlyList<TensorKurtosis> Kurtoses { get; init; }

    /// <summary>K: the Pearson kurtosis of the list <see cref="Kurtoses"/>.</summary>
    public required double KurtosisOfKurtoses { get; init; }

    /// <summary>1/log2(K) when K &lt; e, else 1/ln(K), before clamping (above 1 when K &lt; 2; infinite at K = 1).</summary>
    public required double RawModifier { get; init; }

    /// <summary><see cref="RawModifier"/> clamped to at most 1.</summary>
    public required double Modifier { get; init; }

    /// <summary>Knee rate × <see cref="RawModifier"/> (may exceed the knee, or 1, when K &lt; 2).</summary>
    public required double RawSafeRate { get; init; }

    /// <summary>Knee rate × <see cref="Modifier"/>: the rate the method recommends.</summary>
    public required double SafeRate { get; init; }

    /// <summary>True when the raw modifier exceeded 1 and the safe rate was clamped to the knee rate (CMP0303).</summary>
    public required bool Clamped { get; init; }

    /// <summary>Zero-variance tensors left out of the kurtoses (their kurtosis is undefined; CMP0302).</summary>
    public required IReadOnlyList<string> ExcludedTensors { get; init; }

    /// <summary>The implementation that produced the numbers (<see cref="AnalysisBackend.Fast"/> or <see cref="AnalysisBackend.Torch"/>).</summary>
    public required AnalysisBackend Backend { get; init; }
}

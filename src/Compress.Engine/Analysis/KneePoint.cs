namespace Compress.Engine.Analysis;

/// <summary>
/// The point of the cosine curve nearest the utopia point (rate 1, cosine 1): the largest prune rate before the
/// pruned network stops pointing the same way as the original one.
/// </summary>
/// <param name="Index">Index into <see cref="PruneAnalysis.Rates"/> (the first one when several are equally near).</param>
/// <param name="Rate">The prune rate at <paramref name="Index"/> (a float32 value widened to double).</param>
/// <param name="Cosine">The cosine similarity at that rate.</param>
/// <param name="Distance">Euclidean distance from (rate, cosine) to (1, 1).</param>
public sealed record KneePoint(int Index, double Rate, double Cosine, double Distance);

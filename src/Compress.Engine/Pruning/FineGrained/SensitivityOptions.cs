using System.Globalization;
using Compress.Engine.Diagnostics;

namespace Compress.Engine.Pruning.FineGrained;

/// <summary>Options of <see cref="SensitivityScan.Run"/>.</summary>
public sealed record SensitivityOptions
{
    /// <summary>The lab's scan grid, 0.4 to 0.9 in steps of 0.1 (written as exact decimals, not accumulated steps).</summary>
    public static IReadOnlyList<double> DefaultSparsities { get; } = [0.4, 0.5, 0.6, 0.7, 0.8, 0.9];

    /// <summary>
    /// Sparsities each layer is pruned to in turn; each in [0, 1]. Default <see cref="DefaultSparsities"/>. The scan
    /// sorts them and drops repeats.
    /// </summary>
    public IReadOnlyList<double> Sparsities { get; init; } = DefaultSparsities;

    /// <summary>
    /// Parameter names to scan (conv and linear weights as <c>named_parameters()</c> names them); null (default) scans
    /// every prunable weight, in module order.
    /// </summary>
    public IReadOnlyList<string>? Layers { get; init; }

    /// <summary>Evaluation batch size (default 256, as <c>compress evaluate</c>).</summary>
    public int BatchSize { get; init; } = 256;

    /// <summary>
    /// When set, every evaluation uses only the first <c>MaxBatches × BatchSize</c> test images (a faster, noisier
    /// scan); null (default) uses them all.
    /// </summary>
    public int? MaxBatches { get; init; }

    /// <summary>The sparsities sorted ascending without repeats; CMP0754 when empty, CMP0751 for one outside [0, 1].</summary>
    internal double[] SortedSparsities()
    {
        if (Sparsities is null || Sparsities.Count == 0)
            throw new CompressException(DiagnosticCode.InvalidSensitivityOption, "The sensitivity scan needs at least one sparsity.",
                hint: "Give e.g. --sparsities 0.4,0.5,0.6,0.7,0.8,0.9.");
        foreach (double s in Sparsities)
        {
            if (!(s >= 0.0 && s <= 1.0))
                throw new CompressException(DiagnosticCode.InvalidLayerSparsity,
                    $"Scan sparsity {s.ToString("R", CultureInfo.InvariantCulture)} is outside [0, 1].",
                    hint: "A sparsity is the fraction of a layer's weights removed: 0.7 removes 70 %.");
        }
        return [.. Sparsities.Distinct().Order()];
    }

    /// <summary>CMP0754 for a batch size or batch limit below 1.</summary>
    internal void Validate()
    {
        if (BatchSize < 1)
            throw new CompressException(DiagnosticCode.InvalidSensitivityOption,
                string.Create(CultureInfo.InvariantCulture, $"The evaluation batch size must be at least 1 (got {BatchSize})."));
        if (MaxBatches is int max && max < 1)
            throw new CompressException(DiagnosticCode.InvalidSensitivityOption,
                string.Create(CultureInfo.InvariantCulture, $"The batch limit must be at least 1 (got {max}); leave it unset to use every test image."));
        if (Layers is { Count: 0 })
            throw new CompressException(DiagnosticCode.InvalidSensitivityOption, "The layer list is empty; leave it unset to scan every prunable weight.");
    }
}

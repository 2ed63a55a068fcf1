using System.Text.Json.Serialization;

namespace Compress.Engine.Pruning.FineGrained;

/// <summary>
/// Per-layer sparsities proposed from a sensitivity scan (<see cref="SparsityProposal.Propose"/>), with the model size
/// they give and whether the size target was met. An unreachable target is reported here, not thrown.
/// </summary>
public sealed record SparsityProposalResult
{
    /// <summary>The dense accuracy of the scan the proposal came from.</summary>
    public required double DenseAccuracy { get; init; }

    /// <summary>The accuracy budget, in percentage points below <see cref="DenseAccuracy"/>.</summary>
    public required double MaxAccuracyDrop { get; init; }

    /// <summary>Every parameter of the model (see <see cref="SensitivityResult.ModelParameterCount"/>).</summary>
    public required long ModelParameterCount { get; init; }

    /// <summary>
    /// Parameters left after pruning every layer to its proposed sparsity, counting <c>round(n × s)</c> per layer. Ties
    /// at a threshold only remove more, so the real count is at most this.
    /// </summary>
    public required long KeptParameters { get; init; }

    /// <summary><see cref="KeptParameters"/> / <see cref="ModelParameterCount"/>.</summary>
    public double KeptFraction => ModelParameterCount == 0 ? 1.0 : (double)KeptParameters / ModelParameterCount;

    /// <summary>The largest acceptable kept parameter count; null when no target was given.</summary>
    public long? TargetParameters { get; init; }

    /// <summary>Whether <see cref="KeptParameters"/> &lt;= <see cref="TargetParameters"/>; null without a target.</summary>
    public bool? TargetReached { get; init; }

    /// <summary>Why the target was not reached, for people; null otherwise.</summary>
    public string? Note { get; init; }

    /// <summary>Per layer, in the scan's order.</summary>
    public required IReadOnlyList<LayerProposal> Layers { get; init; }

    /// <summary>
    /// Parameter name to sparsity, the input of <see cref="LayerwiseMagnitudePruner.Compute"/> and
    /// <see cref="SparsityFile.Write"/>. Not serialised (the names are in <see cref="Layers"/>; the JSON style would
    /// camelCase them as dictionary keys).
    /// </summary>
    [JsonIgnore]
    public IReadOnlyDictionary<string, double> Sparsities =>
        Layers.ToDictionary(l => l.Name, l => l.Sparsity, StringComparer.Ordinal);
}

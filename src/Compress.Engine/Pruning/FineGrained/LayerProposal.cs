namespace Compress.Engine.Pruning.FineGrained;

/// <summary>The sparsity <see cref="SparsityProposal"/> chose for one layer, and why.</summary>
/// <param name="Name">The parameter name.</param>
/// <param name="ParameterCount">Its element count.</param>
/// <param name="Sparsity">The proposed sparsity (0 or one of the scanned sparsities).</param>
/// <param name="PrunedCount">Entries it removes before ties, <c>round(n × sparsity)</c>.</param>
/// <param name="Accuracy">The accuracy the scan measured with this layer alone at <paramref name="Sparsity"/> (the dense accuracy at 0).</param>
/// <param name="WithinDropSparsity">The sparsity the accuracy budget alone allowed (phase 1).</param>
/// <param name="RaisedForTarget">True when phase 2 raised it above <paramref name="WithinDropSparsity"/> to reach the size target.</param>
public sealed record LayerProposal(string Name, long ParameterCount, double Sparsity, long PrunedCount, double Accuracy,
    double WithinDropSparsity, bool RaisedForTarget);

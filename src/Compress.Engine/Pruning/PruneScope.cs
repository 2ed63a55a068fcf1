namespace Compress.Engine.Pruning;

/// <summary>Where scores are compared.</summary>
public enum PruneScope
{
    /// <summary>One ranking over every weight in scope: k = round(s x n) lowest scores overall.</summary>
    Global,

    /// <summary>Each tensor ranked alone: k_l = round(s x n_l) lowest scores of each tensor.</summary>
    Layer,
}

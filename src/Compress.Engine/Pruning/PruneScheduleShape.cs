namespace Compress.Engine.Pruning;

/// <summary>How an iterative schedule approaches its target fraction s over N steps (s_i after step i).</summary>
public enum PruneScheduleShape
{
    /// <summary><c>s x i / N</c>.</summary>
    Linear,

    /// <summary><c>s x (1 - (1 - i/N)^3)</c> (Zhu and Gupta's gradual pruning: large steps first).</summary>
    Cubic,

    /// <summary><c>1 - (1 - s)^(i/N)</c>: the same fraction of the remaining weights at every step.</summary>
    Geometric,
}

using System.Globalization;
using Compress.Engine.Diagnostics;

namespace Compress.Engine.Pruning;

/// <summary>
/// One-shot (<see cref="Steps"/> = 1) or iterative pruning: N steps to the target fraction, cumulative targets by
/// <see cref="Shape"/>, <see cref="EpochsBetween"/> fine-tuning epochs between steps; masks only grow and scores are
/// recomputed on the masked model at each step.
/// </summary>
public sealed record PruneSchedule
{
    /// <summary>One step at the target. The default.</summary>
    public static PruneSchedule OneShot { get; } = new();

    /// <summary>Steps; 1 is one-shot. Default 1.</summary>
    public int Steps { get; init; } = 1;

    /// <summary>How the cumulative target grows. Default <see cref="PruneScheduleShape.Linear"/>.</summary>
    public PruneScheduleShape Shape { get; init; } = PruneScheduleShape.Linear;

    /// <summary>Fine-tuning epochs between steps (the final fine-tune follows the last step). Default 1.</summary>
    public int EpochsBetween { get; init; } = 1;

    /// <summary>Whether there is more than one step.</summary>
    public bool IsIterative => Steps > 1;

    /// <summary>The cumulative fraction after step <paramref name="step"/> (1..Steps) towards <paramref name="target"/>;
    /// exactly <paramref name="target"/> at the last step.</summary>
    public double Target(double target, int step)
    {
        if (step >= Steps) return target;
        double t = (double)step / Steps;
        return Shape switch
        {
            PruneScheduleShape.Linear => target * t,
            PruneScheduleShape.Cubic => target * (1 - Math.Pow(1 - t, 3)),
            PruneScheduleShape.Geometric => 1 - Math.Pow(1 - target, t),
            _ => throw new InvalidOperationException("unreachable: " + Shape),
        };
    }

    /// <summary>CMP0001 for fewer than 1 step or negative epochs.</summary>
    public void Validate()
    {
        if (Steps < 1 || Steps > 1000)
            throw new CompressException(DiagnosticCode.InvalidOption, string.Create(CultureInfo.InvariantCulture,
                $"The schedule's steps must be 1 to 1000 (got {Steps})."), hint: "Use --steps 1 for one-shot, or e.g. --steps 5.");
        if (EpochsBetween < 0)
            throw new CompressException(DiagnosticCode.InvalidOption, string.Create(CultureInfo.InvariantCulture,
                $"The fine-tuning epochs between steps must be 0 or more (got {EpochsBetween})."));
    }
}

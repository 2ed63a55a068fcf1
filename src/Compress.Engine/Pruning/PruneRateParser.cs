using System.Globalization;
using Compress.Engine.Diagnostics;

namespace Compress.Engine.Pruning;

/// <summary>Reads the <c>--rate</c> value: a number in [0, 1], <c>knee</c> or <c>safe</c> (case-insensitive).</summary>
public static class PruneRateParser
{
    private const string Hint = "Use e.g. --rate 0.5, --rate knee or --rate safe.";

    /// <summary>Parses <paramref name="text"/>; anything else is a CMP0301 error that quotes it.</summary>
    public static PruneRateSpec Parse(string text)
    {
        string trimmed = (text ?? string.Empty).Trim();
        if (trimmed.Equals("knee", StringComparison.OrdinalIgnoreCase)) return new PruneRateSpec(PruneRateKind.Knee, null);
        if (trimmed.Equals("safe", StringComparison.OrdinalIgnoreCase)) return new PruneRateSpec(PruneRateKind.Safe, null);
        if (!double.TryParse(trimmed, NumberStyles.Float, CultureInfo.InvariantCulture, out double rate) || !double.IsFinite(rate))
        {
            throw new CompressException(DiagnosticCode.InvalidRate,
                $"Prune rate '{text}' is not a number, 'knee' or 'safe'.", hint: Hint);
        }
        Validate(rate);
        return new PruneRateSpec(PruneRateKind.Fixed, rate);
    }

    /// <summary>Throws CMP0301 unless <paramref name="rate"/> is in [0, 1].</summary>
    internal static void Validate(double rate)
    {
        if (!(rate >= 0.0 && rate <= 1.0))
        {
            throw new CompressException(DiagnosticCode.InvalidRate,
                $"Prune rate {rate.ToString("R", CultureInfo.InvariantCulture)} is outside [0, 1].",
                hint: Hint + " A rate is the fraction of weights removed, 0.9 meaning 90 %.");
        }
    }
}

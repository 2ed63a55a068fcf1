using System.Globalization;
using Compress.Engine.Diagnostics;
using ScottPlot;

namespace Compress.Engine.Analysis;

/// <summary>
/// What the sensitivity, parameter-count and histogram plots share with <see cref="CosineCurvePlot"/>: font detection
/// (CMP0305 when the machine has none), a sans-serif family, and the temp-file-then-move write (CMP0004 on failure).
/// </summary>
internal static class PlotOutput
{
    private static readonly string[] SansFamilies =
        ["DejaVu Sans", "Liberation Sans", "Noto Sans", "Arial", "Helvetica", "Open Sans", "Segoe UI"];

    /// <summary>False on a machine without fonts: ScottPlot's default typeface then has no glyphs.</summary>
    public static bool HasFont() => Fonts.GetTypeface(Fonts.Default, bold: false, italic: false).GlyphCount > 0;

    /// <summary>A common sans-serif family when one is installed (ScottPlot prefers the system default, often serif).</summary>
    public static string? SansFont()
    {
        var installed = new HashSet<string>(SkiaSharp.SKFontManager.Default.FontFamilies, StringComparer.OrdinalIgnoreCase);
        return SansFamilies.FirstOrDefault(installed.Contains);
    }

    /// <summary>Sets the sans-serif family on <paramref name="plot"/> when there is a font at all.</summary>
    public static void UseSans(Plot plot, bool hasFont)
    {
        if (hasFont && SansFont() is string sans) plot.Font.Set(sans);
    }

    /// <summary>
    /// Writes <paramref name="png"/> to <paramref name="path"/> through a hidden temp file in the same folder, then a
    /// move; reports CMP0305 to <paramref name="sink"/> when <paramref name="hasFont"/> is false.
    /// </summary>
    public static void Write(byte[] png, string path, bool hasFont, IDiagnosticSink? sink)
    {
        if (!hasFont)
        {
            (sink ?? DiagnosticSinks.None).Report(Diagnostic.Warning(DiagnosticCode.PlotWithoutText,
                "No font was found on this machine; the plot was drawn without its title, labels and legend.", path,
                "Install a TrueType font (e.g. apt-get install fonts-dejavu-core) to get the text."));
        }
        string full = Path.GetFullPath(path);
        string target = Reporting.AtomicFile.TargetOf(full);
        string temp = Reporting.AtomicFile.TemporaryPathFor(target);
        try
        {
            File.WriteAllBytes(temp, png);
            File.Move(temp, target, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            TryDelete(temp);
            throw new CompressException(DiagnosticCode.OutputWriteFailed, $"The plot could not be written: {e.Message}", path,
                "Check that the folder exists and is writable.", e);
        }
    }

    public static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Best effort: the temp file is hidden and named after the process.
        }
    }
}

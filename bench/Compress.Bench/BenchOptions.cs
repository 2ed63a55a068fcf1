using System.Globalization;

namespace Compress.Bench;

/// <summary>The <c>--name value</c> options of the graph and ONNX import benchmarks (invariant culture).</summary>
internal static class BenchOptions
{
    /// <summary>The number after <paramref name="name"/>, or <paramref name="fallback"/> when it is absent.</summary>
    public static double Number(string[] args, string name, double fallback)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? double.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
    }

    /// <summary>The integer after <paramref name="name"/>, or <paramref name="fallback"/> when it is absent.</summary>
    public static int Integer(string[] args, string name, int fallback)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
    }

    /// <summary>The text after <paramref name="name"/>, or null when it is absent.</summary>
    public static string? Text(string[] args, string name)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }
}

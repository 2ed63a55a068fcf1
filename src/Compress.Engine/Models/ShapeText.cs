using System.Globalization;

namespace Compress.Engine.Models;

/// <summary>Formats shapes for messages the same way everywhere: <c>[64, 3, 3, 3]</c>, <c>[]</c> for a scalar.</summary>
internal static class ShapeText
{
    public static string Format(IEnumerable<long> shape) =>
        "[" + string.Join(", ", shape.Select(d => d.ToString(CultureInfo.InvariantCulture))) + "]";
}

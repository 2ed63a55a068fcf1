using System.Globalization;
using Compress.Engine.Diagnostics;

namespace Compress.Engine.Models.Graph;

/// <summary>
/// What <see cref="GraphNode.Infer"/> reads: the state-dict shapes (every size comes from them, never from options, so
/// a model whose channels were physically removed is measured right) and the per-image shapes of values computed so far.
/// </summary>
internal sealed class ShapeContext(IReadOnlyDictionary<string, long[]> state, IReadOnlyDictionary<string, long[]> values)
{
    /// <summary>The shape of state tensor <paramref name="key"/>; CMP0105 when the weights lack it.</summary>
    public long[] State(GraphNode node, string key) => state.TryGetValue(key, out var shape)
        ? shape ?? throw new ArgumentException($"The shape of '{key}' is null.")
        : throw new CompressException(DiagnosticCode.MissingKeys,
            $"Graph node '{node.Name}' needs the state tensor '{key}', which the weights do not have.",
            hint: "Check that the weights belong to this architecture (--model).");

    /// <summary>Whether the state has <paramref name="key"/>.</summary>
    public bool HasState(string key) => state.ContainsKey(key);

    /// <summary>The per-image shape of input <paramref name="index"/> of <paramref name="node"/>.</summary>
    public long[] Input(GraphNode node, int index) => values.TryGetValue(node.Inputs[index], out var shape)
        ? shape
        : throw new ArgumentException(
            $"Graph node '{node.Name}' reads '{node.Inputs[index]}', which no earlier node writes.", nameof(node));

    /// <summary>Checks that <paramref name="key"/> is a vector of <paramref name="length"/>; returns its length.</summary>
    public long Vector(GraphNode node, string key, long length)
    {
        var shape = State(node, key);
        if (shape.Length != 1 || shape[0] != length)
            throw Mismatch(key, shape, string.Create(CultureInfo.InvariantCulture,
                $"'{node.Name}' needs a vector of its {length} channels"));
        return length;
    }

    /// <summary>CMP0106: a state tensor that does not fit the activation it is applied to.</summary>
    public static CompressException Mismatch(string key, long[] shape, string why) =>
        new(DiagnosticCode.ShapeMismatch, $"State tensor '{key}' {Text(shape)} does not fit the graph: {why}.",
            hint: "Each layer's weights must match the previous layer's output; a channel-pruned checkpoint must shrink " +
                "the producing layer, its BatchNorm and every consumer together.");

    /// <summary>CMP0106: a node whose inputs cannot go through it.</summary>
    public static CompressException Invalid(GraphNode node, string why, string? hint = null) =>
        new(DiagnosticCode.ShapeMismatch, $"Graph node '{node.Name}' ({node.Kind}): {why}.",
            hint: hint ?? "The input image may be too small for this architecture, or the weights do not belong to it.");

    /// <summary>PyTorch's output size: <c>floor((size + 2 padding - dilation (kernel - 1) - 1) / stride) + 1</c>
    /// (ceil instead of floor when <paramref name="ceil"/>, with PyTorch's rule that the last window starts inside the
    /// input or left padding).</summary>
    public static long WindowOut(long size, long kernel, long stride, long padding, long dilation, bool ceil = false)
    {
        long span = size + (2L * padding) - (dilation * (kernel - 1)) - 1;
        if (span < 0 || stride < 1) return 0;
        if (!ceil) return (span / stride) + 1;
        long result = ((span + stride - 1) / stride) + 1;
        if ((result - 1) * stride >= size + padding) result--;
        return result;
    }

    /// <summary>Product of the dimensions (1 for a scalar).</summary>
    public static long Product(IEnumerable<long> shape) => shape.Aggregate(1L, (a, b) => a * b);

    /// <summary><c>[a, b, c]</c>.</summary>
    public static string Text(IEnumerable<long> shape) => ShapeText.Format(shape);
}

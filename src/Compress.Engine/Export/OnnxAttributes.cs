using Onnx;

namespace Compress.Engine.Export;

/// <summary>Attribute look-ups with ONNX defaults, shared by the profiler and the compactor.</summary>
internal static class OnnxAttributes
{
    public static AttributeProto? Find(NodeProto node, string name) =>
        node.Attribute.FirstOrDefault(a => a.Name == name);

    public static long Int(NodeProto node, string name, long fallback) =>
        Find(node, name) is { } a ? a.I : fallback;

    public static float Float(NodeProto node, string name, float fallback) =>
        Find(node, name) is { } a ? a.F : fallback;

    public static string String(NodeProto node, string name, string fallback) =>
        Find(node, name) is { } a ? a.S.ToStringUtf8() : fallback;

    /// <summary>The ints attribute, or <paramref name="count"/> copies of <paramref name="fallback"/> when absent.</summary>
    public static long[] Ints(NodeProto node, string name, int count, long fallback) =>
        Find(node, name) is { } a && a.Ints.Count > 0 ? [.. a.Ints] : Enumerable.Repeat(fallback, count).ToArray();
}

using Onnx;

namespace Compress.Engine.Export;

/// <summary>
/// The compacted model and what compaction saved: per-layer widths, parameters, per-image MACs and serialized size,
/// so the user can see whether unstructured pruning turned into a smaller, faster model.
/// </summary>
/// <param name="Model">A new model; the input model is untouched.</param>
/// <param name="Nodes">Every Conv/Gemm whose weight changed, in graph order.</param>
/// <param name="Before">Profile of the input model.</param>
/// <param name="After">Profile of <paramref name="Model"/>.</param>
/// <param name="BytesBefore">Serialized size of the input model in bytes.</param>
/// <param name="BytesAfter">Serialized size of <paramref name="Model"/> in bytes.</param>
public sealed record CompactionResult(
    ModelProto Model,
    IReadOnlyList<CompactedNode> Nodes,
    OnnxProfileResult Before,
    OnnxProfileResult After,
    long BytesBefore,
    long BytesAfter)
{
    /// <summary>Parameters (float initializer elements) before compaction.</summary>
    public long ParametersBefore => Before.Parameters;

    /// <summary>Parameters after compaction.</summary>
    public long ParametersAfter => After.Parameters;

    /// <summary>Multiply-accumulates per image before compaction.</summary>
    public long MacsBefore => Before.Macs;

    /// <summary>Multiply-accumulates per image after compaction.</summary>
    public long MacsAfter => After.Macs;

    /// <summary>Output channels removed in total over all Conv layers.</summary>
    public int RemovedChannels => Nodes.Sum(n => n.RemovedOutputChannels.Count);
}

using Compress.Engine.Export;

namespace Compress.Engine.Pipeline;

/// <summary>Parameters, MACs (per image) and file bytes before and after compaction, and the channels removed.</summary>
public sealed record CompactionSummary(long ParametersBefore, long ParametersAfter, long MacsBefore, long MacsAfter,
    long BytesBefore, long BytesAfter, long RemovedChannels, IReadOnlyList<CompactedNode> Nodes)
{
    /// <summary>Summarises an <see cref="OnnxCompactor"/> result.</summary>
    public static CompactionSummary From(CompactionResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        return new(result.ParametersBefore, result.ParametersAfter, result.MacsBefore, result.MacsAfter, result.BytesBefore,
            result.BytesAfter, result.RemovedChannels, result.Nodes);
    }
}

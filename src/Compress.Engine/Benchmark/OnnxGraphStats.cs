using Onnx;

namespace Compress.Engine.Benchmark;

/// <summary>
/// Size statistics of an ONNX file: parameters (sum of initializer element counts) and multiply-accumulates per image
/// (the importer's graph measured by <see cref="ModelProfiler"/>, as everywhere else). When the graph cannot be
/// imported, MACs are reported as unknown (null) rather than guessed.
/// </summary>
internal static class OnnxGraphStats
{
    /// <summary>Sum of the element counts of every initializer of the main graph.</summary>
    public static long CountParameters(GraphProto graph)
    {
        long total = 0;
        foreach (var init in graph.Initializer) total += Product(init.Dims);
        return total;
    }

    /// <summary>Multiply-accumulates of one image (batch 1) by the graph's MAC rules (<see cref="ModelProfiler"/>), or
    /// null when the model cannot be imported (an op the importer does not read, no static C, H, W).</summary>
    public static long? CountMacs(ModelProto model)
    {
        try
        {
            return Export.OnnxProfile.Measure(model).Macs;
        }
        catch (Diagnostics.CompressException)
        {
            return null;
        }
    }

    private static long Product(IEnumerable<long> dims) => dims.Aggregate(1L, (a, b) => a * b);
}

using System.IO.Compression;
using Onnx;

namespace Compress.Engine.Export;

/// <summary>
/// What an ONNX file costs to ship: its bytes, its gzip-compressed bytes (zeros compress, so unstructured sparsity
/// shows up there and not in the file), and how many of its float32 initializer elements are parameters and how many
/// are nonzero, in all and per node. <see cref="OnnxFileStats.Measure"/> reads it.
/// </summary>
/// <param name="Bytes">Size of the file.</param>
/// <param name="GzipBytes">Size of the file compressed with gzip (optimal level), as a download or a package would be.</param>
/// <param name="Parameters">Elements of the float32 initializers.</param>
/// <param name="Nonzeros">Those that are not exactly zero.</param>
/// <param name="NodeNonzeros">Per node name: nonzero elements of the float32 initializers the node reads.</param>
public sealed record OnnxFileStats(long Bytes, long GzipBytes, long Parameters, long Nonzeros, IReadOnlyDictionary<string, long> NodeNonzeros)
{
    /// <summary>Measures the ONNX file at <paramref name="path"/> (already parsed as <paramref name="model"/>).</summary>
    public static OnnxFileStats Measure(string path, ModelProto model)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(model);
        byte[] bytes = File.ReadAllBytes(Reporting.OutputTransaction.ReadPathOf(path));
        long gzip;
        using (var counter = new CountingStream())
        {
            using (var zip = new GZipStream(counter, CompressionLevel.Optimal, leaveOpen: true)) zip.Write(bytes);
            gzip = counter.Length;
        }
        var nonzerosByTensor = new Dictionary<string, long>(StringComparer.Ordinal);
        long parameters = 0, nonzeros = 0;
        foreach (var tensor in model.Graph.Initializer)
        {
            if (!OnnxFloatTensor.IsReadable(tensor)) continue;
            var values = OnnxFloatTensor.Read(tensor);
            long n = 0;
            foreach (float v in values)
                if (v != 0) n++;
            parameters += values.Length;
            nonzeros += n;
            nonzerosByTensor[tensor.Name] = n;
        }
        var perNode = new Dictionary<string, long>(StringComparer.Ordinal);
        for (int i = 0; i < model.Graph.Node.Count; i++)
        {
            var node = model.Graph.Node[i];
            long n = 0;
            foreach (string input in node.Input)
                if (nonzerosByTensor.TryGetValue(input, out long count)) n += count;
            perNode[OnnxProfile.NodeName(node, i)] = n;
        }
        return new OnnxFileStats(bytes.LongLength, gzip, parameters, nonzeros, perNode);
    }

    /// <summary>
    /// Histogram of the weights (float32 initializers of rank 2 or more: convolution and linear kernels) of
    /// <paramref name="model"/> in <paramref name="bins"/> equal bins over [-<paramref name="limit"/>, <paramref name="limit"/>]
    /// (values outside land in the end bins), and how many of them are exactly zero (counted apart, not in a bin: a
    /// pruned model's zeros would dwarf every other bin).
    /// </summary>
    public static (long[] Counts, long Zeros) WeightHistogram(ModelProto model, double limit, int bins)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentOutOfRangeException.ThrowIfLessThan(bins, 1);
        var counts = new long[bins];
        long zeros = 0;
        double scale = limit > 0 ? bins / (2 * limit) : 0;
        foreach (var values in Weights(model))
        {
            foreach (float v in values)
            {
                if (v == 0)
                {
                    zeros++;
                    continue;
                }
                int bin = (int)Math.Floor((v + limit) * scale);
                counts[Math.Clamp(bin, 0, bins - 1)]++;
            }
        }
        return (counts, zeros);
    }

    /// <summary>The largest |w| over the weights <see cref="WeightHistogram"/> counts (0 when there are none).</summary>
    public static double MaxAbsWeight(ModelProto model)
    {
        ArgumentNullException.ThrowIfNull(model);
        double max = 0;
        foreach (var values in Weights(model))
            foreach (float v in values)
                if (float.IsFinite(v)) max = Math.Max(max, Math.Abs(v));
        return max;
    }

    private static IEnumerable<float[]> Weights(ModelProto model) =>
        model.Graph.Initializer.Where(t => t.Dims.Count >= 2 && OnnxFloatTensor.IsReadable(t)).Select(OnnxFloatTensor.Read);

    /// <summary>A write-only stream that only counts bytes (the gzip size without keeping the compressed copy).</summary>
    private sealed class CountingStream : Stream
    {
        private long _length;
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => _length;
        public override long Position { get => _length; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => _length += count;
        public override void Write(ReadOnlySpan<byte> buffer) => _length += buffer.Length;
    }
}

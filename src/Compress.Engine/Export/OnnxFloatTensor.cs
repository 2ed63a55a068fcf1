using System.Runtime.InteropServices;
using Google.Protobuf;
using Onnx;

namespace Compress.Engine.Export;

/// <summary>
/// Reads and writes float32 ONNX initializers (raw little-endian bytes or <c>float_data</c>), so the compactor can
/// slice weights without caring how the exporter stored them. Anything else (other element types, external data) is
/// reported as unreadable and the caller leaves that tensor alone.
/// </summary>
internal static class OnnxFloatTensor
{
    private const int FloatType = (int)TensorProto.Types.DataType.Float;

    /// <summary>True when <paramref name="tensor"/> holds float32 data inside the model.</summary>
    public static bool IsReadable(TensorProto tensor) =>
        tensor.DataType == FloatType
        && tensor.DataLocation != TensorProto.Types.DataLocation.External
        && BitConverter.IsLittleEndian
        && ElementCount(tensor) == (tensor.RawData.Length > 0 ? tensor.RawData.Length / sizeof(float) : tensor.FloatData.Count);

    /// <summary>Number of elements the dims describe (1 for a scalar).</summary>
    public static long ElementCount(TensorProto tensor)
    {
        long n = 1;
        foreach (var d in tensor.Dims)
            n *= d;
        return n;
    }

    /// <summary>The values, copied; call only when <see cref="IsReadable"/> is true.</summary>
    public static float[] Read(TensorProto tensor) =>
        tensor.RawData.Length > 0
            ? MemoryMarshal.Cast<byte, float>(tensor.RawData.Span).ToArray()
            : [.. tensor.FloatData];

    /// <summary>Replaces dims and data, storing raw bytes (the compact form every exporter uses).</summary>
    public static void Write(TensorProto tensor, long[] dims, float[] data)
    {
        tensor.Dims.Clear();
        tensor.Dims.Add(dims);
        tensor.FloatData.Clear();
        tensor.RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(data.AsSpan()));
    }

    /// <summary>
    /// Removes the indices in <paramref name="drop"/> (each expanded to <paramref name="block"/> consecutive
    /// positions) along <paramref name="axis"/> of a row-major tensor.
    /// </summary>
    public static (long[] Dims, float[] Data) Slice(long[] dims, float[] data, int axis, IReadOnlySet<int> drop, int block = 1)
    {
        long outer = 1, inner = 1;
        for (var i = 0; i < axis; i++)
            outer *= dims[i];
        for (var i = axis + 1; i < dims.Length; i++)
            inner *= dims[i];
        var size = (int)dims[axis];
        var keep = new List<int>(size);
        for (var i = 0; i < size; i++)
        {
            if (!drop.Contains(i / block))
                keep.Add(i);
        }
        var newDims = (long[])dims.Clone();
        newDims[axis] = keep.Count;
        var result = new float[outer * keep.Count * inner];
        var w = 0L;
        for (long o = 0; o < outer; o++)
        {
            foreach (var k in keep)
            {
                Array.Copy(data, (o * size + k) * inner, result, w, inner);
                w += inner;
            }
        }
        return (newDims, result);
    }
}

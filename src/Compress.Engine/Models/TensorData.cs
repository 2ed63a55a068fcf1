using System.Buffers.Binary;
using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace Compress.Engine.Models;

/// <summary>
/// One tensor as stored in a checkpoint, read without libtorch: element type, shape and raw bytes.
/// </summary>
/// <param name="DType">Safetensors dtype name: <c>F64</c>, <c>F32</c>, <c>F16</c>, <c>BF16</c>, <c>I64</c>,
/// <c>I32</c>, <c>I16</c>, <c>I8</c>, <c>U8</c> or <c>BOOL</c> (PyTorch storages are mapped to these).</param>
/// <param name="Shape">Dimensions; empty for a 0-dim scalar such as <c>num_batches_tracked</c>.</param>
/// <param name="Data">The elements, contiguous in row-major (C) order, little-endian; exactly
/// <see cref="ElementCount"/> x element-size bytes. Record equality compares the arrays by reference, not by content.
/// </param>
public sealed record TensorData(string DType, long[] Shape, byte[] Data)
{
    /// <summary>Number of elements (1 for a 0-dim scalar).</summary>
    public long ElementCount
    {
        get
        {
            long n = 1;
            foreach (long d in Shape) n *= d;
            return n;
        }
    }

    /// <summary>The values converted to float32 (floating and integer dtypes; <c>BOOL</c> as 0/1).</summary>
    public float[] ToSingleArray()
    {
        var result = new float[ElementCount];
        var bytes = Data.AsSpan();
        for (int i = 0; i < result.Length; i++) result[i] = (float)ValueAt(bytes, i);
        return result;
    }

    /// <summary>The values converted to float64; exact for every supported dtype except I64 beyond 2^53.</summary>
    public double[] ToDoubleArray()
    {
        var result = new double[ElementCount];
        var bytes = Data.AsSpan();
        for (int i = 0; i < result.Length; i++) result[i] = ValueAt(bytes, i);
        return result;
    }

    /// <summary>Index of the first NaN or infinite element, or -1 (always -1 for integer dtypes).</summary>
    internal long IndexOfNonFinite()
    {
        var bytes = Data.AsSpan();
        switch (DType)
        {
            case "F32":
                var f = MemoryMarshal.Cast<byte, float>(bytes);
                for (int i = 0; i < f.Length; i++) if (!float.IsFinite(f[i])) return i;
                return -1;
            case "F64":
                var d = MemoryMarshal.Cast<byte, double>(bytes);
                for (int i = 0; i < d.Length; i++) if (!double.IsFinite(d[i])) return i;
                return -1;
            case "F16":
            case "BF16":
                // Both: non-finite exactly when every exponent bit is set.
                ushort mask = DType == "F16" ? (ushort)0x7C00 : (ushort)0x7F80;
                var h = MemoryMarshal.Cast<byte, ushort>(bytes);
                for (int i = 0; i < h.Length; i++) if ((h[i] & mask) == mask) return i;
                return -1;
            default:
                return -1;
        }
    }

    /// <summary>A new CPU tensor with this dtype, shape and content (the caller disposes it).</summary>
    internal Tensor ToTensor()
    {
        var tensor = empty(Shape, DTypes.ToScalarType(DType));
        if (Data.Length > 0) tensor.bytes = Data;
        return tensor;
    }

    private double ValueAt(ReadOnlySpan<byte> b, int i) => DType switch
    {
        "F64" => BinaryPrimitives.ReadDoubleLittleEndian(b[(i * 8)..]),
        "F32" => BinaryPrimitives.ReadSingleLittleEndian(b[(i * 4)..]),
        "F16" => (double)BinaryPrimitives.ReadHalfLittleEndian(b[(i * 2)..]),
        "BF16" => BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(b[(i * 2)..]) << 16),
        "I64" => BinaryPrimitives.ReadInt64LittleEndian(b[(i * 8)..]),
        "I32" => BinaryPrimitives.ReadInt32LittleEndian(b[(i * 4)..]),
        "I16" => BinaryPrimitives.ReadInt16LittleEndian(b[(i * 2)..]),
        "I8" => (sbyte)b[i],
        "U8" or "BOOL" => b[i],
        _ => throw new NotSupportedException($"Unsupported dtype '{DType}'."),
    };
}

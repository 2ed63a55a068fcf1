using System.Runtime.InteropServices;
using Google.Protobuf;

namespace Compress.Engine.Models.Onnx;

/// <summary>
/// One state tensor of an imported model: float32 values, read from the file's own bytes when it is an initializer
/// used as it is (no copy until the model takes it), or computed at import (a transposed or scaled weight).
/// </summary>
public sealed class ImportedTensor
{
    private readonly ByteString? _raw;
    private readonly float[]? _values;

    internal ImportedTensor(long[] shape, ByteString raw)
    {
        Shape = shape;
        _raw = raw;
    }

    internal ImportedTensor(long[] shape, float[] values)
    {
        Shape = shape;
        _values = values;
    }

    /// <summary>The tensor's shape.</summary>
    public long[] Shape { get; }

    /// <summary>Number of values the data holds (may differ from the shape's product in a damaged file).</summary>
    public long Length => _values?.LongLength ?? (_raw!.Length / sizeof(float));

    /// <summary>The values, without a copy when they come from the file.</summary>
    public ReadOnlySpan<float> Values => _values ?? MemoryMarshal.Cast<byte, float>(_raw!.Span);

    /// <summary>The values as raw little-endian bytes.</summary>
    public ReadOnlySpan<byte> Bytes => _values is not null ? MemoryMarshal.AsBytes(_values.AsSpan()) : _raw!.Span;

    /// <summary>A copy of the values.</summary>
    public float[] ToArray() => Values.ToArray();
}

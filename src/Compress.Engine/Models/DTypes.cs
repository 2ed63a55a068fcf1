using static TorchSharp.torch;

namespace Compress.Engine.Models;

/// <summary>Element types by their safetensors names (<c>F32</c>, <c>I64</c>, ...), the names <see cref="TensorData"/>
/// uses for both safetensors and PyTorch checkpoints.</summary>
internal static class DTypes
{
    private static readonly Dictionary<string, (int Size, ScalarType Type)> Known = new(StringComparer.Ordinal)
    {
        ["F64"] = (8, ScalarType.Float64),
        ["F32"] = (4, ScalarType.Float32),
        ["F16"] = (2, ScalarType.Float16),
        ["BF16"] = (2, ScalarType.BFloat16),
        ["I64"] = (8, ScalarType.Int64),
        ["I32"] = (4, ScalarType.Int32),
        ["I16"] = (2, ScalarType.Int16),
        ["I8"] = (1, ScalarType.Int8),
        ["U8"] = (1, ScalarType.Byte),
        ["BOOL"] = (1, ScalarType.Bool),
    };

    /// <summary>Supported names, for messages.</summary>
    public static string SupportedList => string.Join(", ", Known.Keys);

    public static bool TryGetSize(string dtype, out int size)
    {
        bool ok = Known.TryGetValue(dtype, out var entry);
        size = entry.Size;
        return ok;
    }

    public static int SizeOf(string dtype) => Known.TryGetValue(dtype, out var entry)
        ? entry.Size
        : throw new ArgumentException($"Unsupported dtype '{dtype}'.", nameof(dtype));

    public static ScalarType ToScalarType(string dtype) => Known[dtype].Type;

    public static bool IsFloatingPoint(string dtype) => dtype is "F64" or "F32" or "F16" or "BF16";

    public static bool IsInteger(string dtype) => dtype is "I64" or "I32" or "I16" or "I8" or "U8";

    public static string? FromScalarType(ScalarType type)
    {
        foreach (var (name, entry) in Known)
            if (entry.Type == type) return name;
        return null;
    }

    /// <summary>The dtype of a PyTorch storage class (<c>FloatStorage</c> -&gt; <c>F32</c>); null when unsupported.</summary>
    public static string? FromStorageName(string storage) => storage switch
    {
        "DoubleStorage" => "F64",
        "FloatStorage" => "F32",
        "HalfStorage" => "F16",
        "BFloat16Storage" => "BF16",
        "LongStorage" => "I64",
        "IntStorage" => "I32",
        "ShortStorage" => "I16",
        "CharStorage" => "I8",
        "ByteStorage" => "U8",
        "BoolStorage" => "BOOL",
        _ => null,
    };
}

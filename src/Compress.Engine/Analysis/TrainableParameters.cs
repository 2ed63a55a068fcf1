using TorchSharp;
using static TorchSharp.torch;

namespace Compress.Engine.Analysis;

/// <summary>
/// The parameter vector of the method: every parameter with <c>requires_grad</c>, in <c>named_parameters()</c> order
/// (module order, weight then bias). BatchNorm running statistics are buffers and so are not part of it. The tensors
/// are the module's own (not copies) and are not disposed here.
/// </summary>
internal sealed class TrainableParameters
{
    private TrainableParameters(string[] names, Tensor[] tensors, long[] offsets)
    {
        Names = names;
        Tensors = tensors;
        Offsets = offsets;
    }

    /// <summary>Parameter names in module order.</summary>
    public string[] Names { get; }

    /// <summary>The parameters, in the same order.</summary>
    public Tensor[] Tensors { get; }

    /// <summary>Flat start index of each tensor in the concatenated vector; one extra entry holds N.</summary>
    public long[] Offsets { get; }

    /// <summary>N, the total number of elements.</summary>
    public long Count => Offsets[^1];

    public int TensorCount => Tensors.Length;

    public long CountOf(int t) => Offsets[t + 1] - Offsets[t];

    public static TrainableParameters From(nn.Module module)
    {
        ArgumentNullException.ThrowIfNull(module);
        var names = new List<string>();
        var tensors = new List<Tensor>();
        foreach (var (name, parameter) in module.named_parameters())
        {
            if (!parameter.requires_grad) continue;
            names.Add(name);
            tensors.Add(parameter);
        }
        var offsets = new long[tensors.Count + 1];
        for (int i = 0; i < tensors.Count; i++) offsets[i + 1] = offsets[i] + tensors[i].numel();
        return new TrainableParameters([.. names], [.. tensors], offsets);
    }

    /// <summary>True when every tensor is a CPU tensor whose values are exactly representable as float32.</summary>
    public bool AllCpuFloat32Compatible()
    {
        foreach (var t in Tensors)
        {
            if (t.device_type != DeviceType.CPU || !IsFloat32Compatible(t.dtype)) return false;
        }
        return true;
    }

    public static bool IsFloat32Compatible(ScalarType dtype) =>
        dtype is ScalarType.Float32 or ScalarType.Float16 or ScalarType.BFloat16;

    /// <summary>Index of the tensor holding flat index <paramref name="flat"/>.</summary>
    public int TensorOf(long flat)
    {
        int i = Array.BinarySearch(Offsets, flat);
        if (i >= 0)
        {
            // Skip empty tensors that share the offset.
            while (i + 1 < Offsets.Length - 1 && Offsets[i + 1] == flat) i++;
            return i;
        }
        return ~i - 1;
    }
}

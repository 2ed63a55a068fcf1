using Compress.Engine.Diagnostics;
using TorchSharp;

namespace Compress.Engine.Runtime;

/// <summary>Loads libtorch once, turns load failures into coded errors, and resolves the device to run on.</summary>
public static class TorchRuntime
{
    private static readonly object Gate = new();
    private static bool _loaded;

    /// <summary>Parses <c>cpu</c>, <c>cuda</c> or <c>auto</c> (case-insensitive).</summary>
    public static DeviceKind ParseDevice(string text) => text.Trim().ToLowerInvariant() switch
    {
        "cpu" => DeviceKind.Cpu,
        "cuda" or "gpu" => DeviceKind.Cuda,
        "auto" => DeviceKind.Auto,
        _ => throw new CompressException(DiagnosticCode.InvalidOption, $"Unknown device '{text}'.",
            hint: "Use cpu, cuda or auto."),
    };

    /// <summary>The most intra-op threads <see cref="SetThreads"/> accepts: 1024.</summary>
    public const int MaxThreads = 1024;

    /// <summary>libtorch's intra-op thread count when it was loaded (what <see cref="SetThreads"/> restores for 0).</summary>
    private static int _defaultThreads;

    /// <summary>
    /// Makes sure the native library is loaded; throws <see cref="CompressException"/> (CMP0002) with the cause when it
    /// cannot be.
    /// </summary>
    public static void EnsureLoaded()
    {
        lock (Gate)
        {
            if (_loaded) return;
            try
            {
                // Touching torch runs its static initialiser, which loads libLibTorchSharp and libtorch.
                using var probe = torch.zeros(1);
                _defaultThreads = torch.get_num_threads();
                _loaded = true;
            }
            catch (Exception e) when (e is TypeInitializationException or NotSupportedException or DllNotFoundException)
            {
                throw new CompressException(DiagnosticCode.NativeLoadFailed,
                    "The native TorchSharp library (libLibTorchSharp/libtorch) could not be loaded: " +
                    FirstLine((e.InnerException ?? e).Message),
                    hint: "Rebuild with 'dotnet build' so the build can check and fix the library for this system " +
                          "(README, Troubleshooting); 'ldd runtimes/linux-x64/native/libLibTorchSharp.so' shows a missing " +
                          "symbol version.", inner: e);
            }
        }
    }

    /// <summary>True when libtorch has CUDA and a GPU is visible.</summary>
    public static bool CudaAvailable()
    {
        EnsureLoaded();
        try
        {
            return torch.cuda.is_available();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return false;
        }
    }

    /// <summary>
    /// Resolves the device. <see cref="DeviceKind.Cuda"/> without CUDA is an error (CMP0003);
    /// <see cref="DeviceKind.Auto"/> falls back to CPU with a warning.
    /// </summary>
    public static torch.Device Resolve(DeviceKind kind, IDiagnosticSink? sink = null)
    {
        EnsureLoaded();
        switch (kind)
        {
            case DeviceKind.Cpu:
                return torch.CPU;
            case DeviceKind.Cuda when CudaAvailable():
            case DeviceKind.Auto when CudaAvailable():
                return torch.CUDA;
            case DeviceKind.Cuda:
                throw new CompressException(DiagnosticCode.CudaUnavailable, "CUDA was requested but is not available: " +
                    "this build uses the CPU libtorch or no CUDA GPU/driver is visible.",
                    hint: "Run with --device cpu (or auto), or build with -p:CompressTorchDevice=cuda on a machine with an " +
                          "NVIDIA GPU and driver.");
            default:
                sink?.Report(Diagnostic.Warning(DiagnosticCode.CudaUnavailable,
                    "CUDA is not available; running on the CPU."));
                return torch.CPU;
        }
    }

    /// <summary>
    /// Sets the intra-op thread count; 0 means libtorch's default (its count when first loaded), restored even after an
    /// earlier job of the same process chose another: results depend on the thread count (summation order), so a job
    /// that asks for the default must not inherit a previous job's setting.
    /// </summary>
    public static void SetThreads(int threads)
    {
        EnsureLoaded();
        if (threads < 0)
            throw new CompressException(DiagnosticCode.InvalidOption, $"Thread count {threads} is negative.",
                hint: "Use 0 for the default or a positive count.");
        if (threads > MaxThreads)
            throw new CompressException(DiagnosticCode.InvalidOption,
                $"Thread count {threads} is more than {MaxThreads}: each thread is a real OS thread, and more than the cores only slows training.",
                hint: "Use 0 (one per core, the default) or at most the number of cores.");
        int wanted = threads > 0 ? threads : _defaultThreads;
        if (wanted > 0 && torch.get_num_threads() != wanted) torch.set_num_threads(wanted);
    }

    private static string FirstLine(string s)
    {
        int i = s.IndexOf('\n', StringComparison.Ordinal);
        return (i < 0 ? s : s[..i]).Trim();
    }
}

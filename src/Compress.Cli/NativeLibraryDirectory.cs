using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;

namespace Compress.Cli;

/// <summary>
/// Loads native libraries from the folder named by COMPRESS_NATIVE_DIR. The Compress package runs the engine against
/// the consumer's NuGet cache, whose files must not be modified; the build copies and patches libLibTorchSharp.so there
/// (GLIBCXX_3.4.32 requirement, see build/CompressNative.targets), next to links to libtorch (CPU or CUDA) and, with
/// CompressOnnxRuntime=gpu, to ONNX Runtime's GPU build. The package's compress.deps.json leaves TorchSharp's own
/// native asset out, so TorchSharp's load by name finds this already-loaded copy (by its soname) instead of the cache's;
/// ONNX Runtime's imports are routed explicitly, because deps.json does name the CPU build's library.
/// </summary>
internal static class NativeLibraryDirectory
{
    /// <summary>The environment variable the MSBuild task sets.</summary>
    public const string EnvironmentVariable = "COMPRESS_NATIVE_DIR";

    /// <summary>Loads the libraries the folder holds and routes the imports to them; without the variable, nothing.</summary>
    public static void UseFromEnvironment()
    {
        var directory = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (string.IsNullOrEmpty(directory))
        {
            return;
        }
        var torch = Path.Combine(directory, OperatingSystem.IsWindows() ? "LibTorchSharp.dll"
            : OperatingSystem.IsMacOS() ? "libLibTorchSharp.dylib" : "libLibTorchSharp.so");
        // A failure here is reported by TorchSharp's own load on the first torch call (CMP0002), with its diagnosis.
        if (File.Exists(torch) && NativeLibrary.TryLoad(torch, out var torchHandle))
        {
            NativeLibrary.SetDllImportResolver(typeof(TorchSharp.torch).Assembly,
                (name, _, _) => name == "LibTorchSharp" ? torchHandle : IntPtr.Zero);
        }

        var onnxRuntime = Path.Combine(directory, OperatingSystem.IsWindows() ? "onnxruntime.dll"
            : OperatingSystem.IsMacOS() ? "libonnxruntime.dylib" : "libonnxruntime.so");
        if (File.Exists(onnxRuntime) && NativeLibrary.TryLoad(onnxRuntime, out var ortHandle))
        {
            // ONNX Runtime's own resolver would load the CPU build deps.json names; ours replaces it.
            OrtEnv.DisableDllImportResolver = true;
            NativeLibrary.SetDllImportResolver(typeof(OrtEnv).Assembly,
                (name, _, _) => name is "onnxruntime" or "libonnxruntime" ? ortHandle : IntPtr.Zero);
            Console.Error.WriteLine($"compress: ONNX Runtime native library: {onnxRuntime}");
        }
    }
}

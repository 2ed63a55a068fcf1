using System.Runtime.InteropServices;

namespace Compress.Tasks.Engine;

/// <summary>
/// Which native packages and file names the engine needs on one operating system and processor: libtorch ships one
/// CPU package per runtime identifier (linux-x64, win-x64, win-arm64, osx-arm64), TorchSharp's own native library is named per OS,
/// and the libstdc++ fix (<c>Compress.Build.ElfVersionPatcher</c>) applies to Linux only.
/// </summary>
/// <param name="Rid">linux-x64, win-x64, win-arm64 or osx-arm64.</param>
/// <param name="TorchSharpLibrary">TorchSharp's native library in <c>torchsharp/&lt;version&gt;/runtimes/&lt;rid&gt;/native/</c>.</param>
/// <param name="OnnxRuntimeLibrary">ONNX Runtime's native library name on this OS.</param>
/// <param name="PatchElf">True on Linux: libLibTorchSharp.so may need its GLIBCXX_3.4.32 requirement marked weak.</param>
/// <param name="CudaPackagesExist">True where TorchSharp publishes CUDA libtorch packages (Linux and Windows x64).</param>
internal sealed record EngineRuntime(string Rid, string TorchSharpLibrary, string OnnxRuntimeLibrary, bool PatchElf, bool CudaPackagesExist)
{
    /// <summary>The CPU libtorch package for this runtime identifier.</summary>
    public string LibTorchCpuPackage => "libtorch-cpu-" + Rid;

    /// <summary>The TorchSharp package that pulls in the CUDA libtorch for this OS.</summary>
    public string TorchSharpCudaPackage => Rid == "win-x64" ? "TorchSharp-cuda-windows" : "TorchSharp-cuda-linux";

    /// <summary>The ONNX Runtime GPU package with this OS's native library.</summary>
    public string OnnxRuntimeGpuPackage => Rid == "win-x64" ? "Microsoft.ML.OnnxRuntime.Gpu.Windows" : "Microsoft.ML.OnnxRuntime.Gpu.Linux";

    /// <summary>The runtime of the machine running the build, or null (with <paramref name="reason"/>) where libtorch has none.</summary>
    public static EngineRuntime? Current(out string reason) =>
        For(RuntimeInformation.IsOSPlatform(OSPlatform.Windows) ? "windows"
            : RuntimeInformation.IsOSPlatform(OSPlatform.OSX) ? "osx"
            : RuntimeInformation.IsOSPlatform(OSPlatform.Linux) ? "linux" : RuntimeInformation.OSDescription,
            RuntimeInformation.OSArchitecture.ToString().ToLowerInvariant(), out reason);

    /// <summary>
    /// The runtime for an OS (<c>linux</c>, <c>windows</c>, <c>osx</c>) and architecture (<c>x64</c>, <c>arm64</c>),
    /// or null where no libtorch CPU package exists (<paramref name="reason"/> says so).
    /// </summary>
    public static EngineRuntime? For(string os, string architecture, out string reason)
    {
        reason = string.Empty;
        switch (os, architecture)
        {
            case ("linux", "x64"):
                return new EngineRuntime("linux-x64", "libLibTorchSharp.so", "libonnxruntime.so", PatchElf: true, CudaPackagesExist: true);
            case ("windows", "x64"):
                return new EngineRuntime("win-x64", "LibTorchSharp.dll", "onnxruntime.dll", PatchElf: false, CudaPackagesExist: true);
            case ("windows", "arm64"):
                return new EngineRuntime("win-arm64", "LibTorchSharp.dll", "onnxruntime.dll", PatchElf: false, CudaPackagesExist: false);
            case ("osx", "arm64"):
                return new EngineRuntime("osx-arm64", "libLibTorchSharp.dylib", "libonnxruntime.dylib", PatchElf: false, CudaPackagesExist: false);
            default:
                reason = $"TorchSharp publishes libtorch for linux-x64, win-x64, win-arm64 and osx-arm64 only; this machine is {os}-{architecture}.";
                return null;
        }
    }
}

using System.Runtime.InteropServices;

namespace Compress.Cli;

/// <summary>
/// Loads TorchSharp's native library from the folder named by COMPRESS_NATIVE_DIR. The Compress package runs the
/// engine against the consumer's NuGet cache, whose libLibTorchSharp.so must not be modified; the build copies and
/// patches it there (GLIBCXX_3.4.32 requirement, see build/CompressNative.targets), next to links to libtorch. The
/// package's compress.deps.json leaves TorchSharp's own native asset out, so TorchSharp's load by name finds this
/// already-loaded copy (by its soname) instead of the cache's.
/// </summary>
internal static class NativeLibraryDirectory
{
    /// <summary>The environment variable the MSBuild task sets.</summary>
    public const string EnvironmentVariable = "COMPRESS_NATIVE_DIR";

    /// <summary>Loads the library and routes TorchSharp's imports to it when the variable is set; otherwise does nothing.</summary>
    public static void UseFromEnvironment()
    {
        var directory = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (string.IsNullOrEmpty(directory))
        {
            return;
        }
        var file = Path.Combine(directory, OperatingSystem.IsWindows() ? "LibTorchSharp.dll"
            : OperatingSystem.IsMacOS() ? "libLibTorchSharp.dylib" : "libLibTorchSharp.so");
        // A failure here is reported by TorchSharp's own load on the first torch call (CMP0002), with its diagnosis.
        if (!NativeLibrary.TryLoad(file, out var handle))
        {
            return;
        }
        NativeLibrary.SetDllImportResolver(typeof(TorchSharp.torch).Assembly,
            (name, _, _) => name == "LibTorchSharp" ? handle : IntPtr.Zero);
    }
}

namespace Compress.Tasks;

/// <summary>
/// The task-side codes (CMP0601-CMP0619). The task must not reference Compress.Engine (it would drag TorchSharp into
/// the MSBuild node), so it keeps its own copies of these values; a test checks they equal
/// <c>Compress.Engine.Diagnostics.DiagnosticCode</c> and docs/diagnostics.md.
/// </summary>
public static class TaskDiagnosticCode
{
    /// <summary>A CompressModel item has metadata the task does not know (warning, with a suggestion).</summary>
    public const string UnknownMetadata = "CMP0601";
    /// <summary>A metadata value or task parameter is invalid (unparsable, out of range, missing where required).</summary>
    public const string InvalidMetadataValue = "CMP0602";
    /// <summary>A CompressModel item's file or its Data folder does not exist.</summary>
    public const string InputNotFound = "CMP0603";
    /// <summary>The engine (compress.dll or the compress apphost) or the dotnet host was not found.</summary>
    public const string EngineNotFound = "CMP0604";
    /// <summary>The engine exited with a non-zero code without reporting an error.</summary>
    public const string EngineFailed = "CMP0605";
    /// <summary>A CompressModel item is not a weights file (.safetensors, .pt, .pth) or a spec (.json).</summary>
    public const string UnsupportedModelFile = "CMP0606";
    /// <summary>Two CompressModel items would write the same output name.</summary>
    public const string DuplicateModelName = "CMP0607";
    /// <summary>Package only: TorchSharp's native library is missing from the NuGet cache, or the native folder cannot be written.</summary>
    public const string NativeLibraryNotFound = "CMP0608";
    /// <summary>An output or intermediate folder lies outside the project folder and the build's output folders.</summary>
    public const string OutputOutsideProject = "CMP0609";
    /// <summary>Package only: CompressTorchDevice=cuda or CompressOnnxRuntime=gpu, but that package's libraries are not in the NuGet cache after its restore.</summary>
    public const string AcceleratorPackageNotFound = "CMP0610";
    /// <summary>Package only: restoring the engine's own packages into the NuGet global packages folder failed.</summary>
    public const string EngineRestoreFailed = "CMP0611";
    /// <summary>Package only: libtorch has no package for this OS and processor (or no CUDA build, when one was asked for).</summary>
    public const string UnsupportedPlatform = "CMP0612";
}

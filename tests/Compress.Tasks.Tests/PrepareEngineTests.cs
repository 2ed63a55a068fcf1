using Compress.Tasks.Engine;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace Compress.Tasks.Tests;

/// <summary>
/// The package's engine preparation against fake NuGet package folders: which runtime identifier and files each OS
/// gets, the native folder and its stamp, the CUDA and GPU choices, and the first-use restore (a fake dotnet).
/// </summary>
public sealed class PrepareEngineTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [Theory]
    [InlineData("linux", "x64", "linux-x64", "libLibTorchSharp.so", true)]
    [InlineData("windows", "x64", "win-x64", "LibTorchSharp.dll", false)]
    [InlineData("windows", "arm64", "win-arm64", "LibTorchSharp.dll", false)]
    [InlineData("osx", "arm64", "osx-arm64", "libLibTorchSharp.dylib", false)]
    public void Runtime_SupportedPlatforms_SelectTheirLibTorchPackageAndNativeNames(string os, string arch, string rid, string torchSharp, bool patch)
    {
        var runtime = EngineRuntime.For(os, arch, out var reason);
        Assert.NotNull(runtime);
        Assert.Equal(string.Empty, reason);
        Assert.Equal(rid, runtime.Rid);
        Assert.Equal("libtorch-cpu-" + rid, runtime.LibTorchCpuPackage);
        Assert.Equal(torchSharp, runtime.TorchSharpLibrary);
        Assert.Equal(patch, runtime.PatchElf);
    }

    [Theory]
    [InlineData("linux", "arm64")]
    [InlineData("osx", "x64")]
    [InlineData("freebsd", "x64")]
    public void Runtime_UnsupportedPlatform_IsNullWithTheReason(string os, string arch)
    {
        Assert.Null(EngineRuntime.For(os, arch, out var reason));
        Assert.Contains(os + "-" + arch, reason, StringComparison.Ordinal);
        Assert.Contains("linux-x64, win-x64, win-arm64 and osx-arm64", reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Execute_UnsupportedPlatform_FailsWithCmp0612()
    {
        var (task, engine) = Task("linux", "arm64");
        Assert.False(task.Execute());
        Assert.Equal(TaskDiagnosticCode.UnsupportedPlatform, Assert.Single(engine.Errors).Code);
    }

    [Fact]
    public void Execute_PackagesPresent_LinksLibTorchCopiesTorchSharpAndSkipsAnUpToDateFolder()
    {
        Restored("torchsharp/0.107.0", "runtimes/linux-x64/native/libLibTorchSharp.so");
        Restored("libtorch-cpu-linux-x64/2.10.0", "runtimes/linux-x64/native/libtorch_cpu.so", "runtimes/linux-x64/native/libc10.so");
        Restored("microsoft.ml.onnxruntime/1.31.0");
        var (task, engine) = Task("linux", "x64");

        Assert.True(task.Execute(), Describe(engine));
        var native = task.NativeDirectory;
        Assert.Equal(Path.Combine(_temp.Path, "obj", "compress", "native", "linux-x64-cpu-cpu") + Path.DirectorySeparatorChar, native);
        Assert.Equal(Path.Combine(_temp.Path, "packages"), task.ProbingPaths);
        Assert.Equal("libtorch_cpu.so", File.ReadAllText(Path.Combine(native, "libtorch_cpu.so")));
        Assert.NotNull(new FileInfo(Path.Combine(native, "libtorch_cpu.so")).LinkTarget);
        var copy = new FileInfo(Path.Combine(native, "libLibTorchSharp.so"));
        Assert.Null(copy.LinkTarget);
        Assert.DoesNotContain(engine.Messages, m => m.Importance == MessageImportance.High);

        // Up to date: the folder is left as it is (a file dropped into it survives).
        File.WriteAllText(Path.Combine(native, "marker"), "x");
        (task, engine) = Task("linux", "x64");
        Assert.True(task.Execute(), Describe(engine));
        Assert.True(File.Exists(Path.Combine(native, "marker")));

        // A different libtorch file set (another package version's content) makes the folder anew.
        File.WriteAllText(Path.Combine(_temp.Path, "packages", "libtorch-cpu-linux-x64", "2.10.0", "runtimes", "linux-x64", "native", "libshm.so"), "shm");
        (task, engine) = Task("linux", "x64");
        Assert.True(task.Execute(), Describe(engine));
        Assert.False(File.Exists(Path.Combine(native, "marker")));
        Assert.True(File.Exists(Path.Combine(native, "libshm.so")));
    }

    [Fact]
    public void Execute_Windows_UsesTheWindowsLibTorchAndTorchSharpDll()
    {
        Restored("torchsharp/0.107.0", "runtimes/win-x64/native/LibTorchSharp.dll");
        Restored("libtorch-cpu-win-x64/2.10.0", "runtimes/win-x64/native/torch_cpu.dll");
        Restored("microsoft.ml.onnxruntime/1.31.0");
        var (task, engine) = Task("windows", "x64");

        Assert.True(task.Execute(), Describe(engine));
        Assert.EndsWith("win-x64-cpu-cpu" + Path.DirectorySeparatorChar, task.NativeDirectory, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(task.NativeDirectory, "torch_cpu.dll")));
        Assert.True(File.Exists(Path.Combine(task.NativeDirectory, "LibTorchSharp.dll")));
        // The Linux package is not needed there, so its absence asks for no restore.
        Assert.DoesNotContain(engine.Messages, m => m.Message!.Contains("restoring", StringComparison.Ordinal));
    }

    [Fact]
    public void Execute_CudaAndGpu_LinkTheirLibrariesIntoAFolderOfTheirOwn()
    {
        Restored("torchsharp/0.107.0", "runtimes/linux-x64/native/libLibTorchSharp.so");
        Restored("libtorch-cpu-linux-x64/2.10.0", "runtimes/linux-x64/native/libtorch_cpu.so");
        Restored("microsoft.ml.onnxruntime/1.31.0");
        Restored("torchsharp-cuda-linux/0.107.0");
        Restored("libtorch-cuda-12.8-linux-x64-part1/2.10.0", "runtimes/linux-x64/native/libtorch_cuda.so");
        Restored("libtorch-cuda-12.8-linux-x64-part2/2.10.0", "runtimes/linux-x64/native/libcudnn.so.9");
        Restored("microsoft.ml.onnxruntime.gpu.linux/1.31.0", "runtimes/linux-x64/native/libonnxruntime.so");
        var (task, engine) = Task("linux", "x64", "cuda", "gpu");

        Assert.True(task.Execute(), Describe(engine));
        Assert.EndsWith("linux-x64-cuda-gpu" + Path.DirectorySeparatorChar, task.NativeDirectory, StringComparison.Ordinal);
        Assert.All(new[] { "libLibTorchSharp.so", "libtorch_cuda.so", "libcudnn.so.9", "libonnxruntime.so" },
            f => Assert.True(File.Exists(Path.Combine(task.NativeDirectory, f)), f));
        Assert.False(File.Exists(Path.Combine(task.NativeDirectory, "libtorch_cpu.so")));
    }

    [Fact]
    public void Execute_CudaOnMacOS_FailsWithCmp0612()
    {
        var (task, engine) = Task("osx", "arm64", "cuda");
        Assert.False(task.Execute());
        Assert.Contains(engine.Errors, e => e.Code == TaskDiagnosticCode.UnsupportedPlatform);
    }

    [Fact]
    public void Execute_MissingPackages_SaysWhatItDownloadsRestoresPrivatelyAndFailsWithCmp0611WhenThatFails()
    {
        Restored("torchsharp/0.107.0", "runtimes/linux-x64/native/libLibTorchSharp.so");
        Restored("microsoft.ml.onnxruntime/1.31.0");
        // A dotnet that fails the restore like NuGet does when no source has the package.
        var failing = Script("fail-dotnet", "echo \"error NU1101: Unable to find package libtorch-cpu-linux-x64.\"; exit 1");
        var (task, engine) = Task("linux", "x64", dotnet: failing);

        Assert.False(task.Execute());
        var error = Assert.Single(engine.Errors);
        Assert.Equal(TaskDiagnosticCode.EngineRestoreFailed, error.Code);
        Assert.Contains("NU1101", error.Message, StringComparison.Ordinal);
        Assert.Contains("libtorch-cpu-linux-x64 2.10.0", error.Message, StringComparison.Ordinal);
        var announcement = Assert.Single(engine.Messages, m => m.Importance == MessageImportance.High);
        Assert.Contains("restoring 1 package(s), 122 MB", announcement.Message, StringComparison.Ordinal);
        Assert.Contains("libtorch-cpu-linux-x64 2.10.0 (122 MB)", announcement.Message, StringComparison.Ordinal);

        // The restore project downloads exact versions and keeps out of the consumer's Directory.Build.* files.
        var project = File.ReadAllText(Path.Combine(_temp.Path, "obj", "compress", "engine-restore", "compress-engine.csproj"));
        Assert.Contains("<PackageDownload Include=\"libtorch-cpu-linux-x64\" Version=\"[2.10.0]\" />", project, StringComparison.Ordinal);
        Assert.Contains("<PackageDownload Include=\"TorchSharp\" Version=\"[0.107.0]\" />", project, StringComparison.Ordinal);
        Assert.DoesNotContain("libtorch-cpu-win-x64", project, StringComparison.Ordinal);
        Assert.Contains("<ImportDirectoryBuildProps>false</ImportDirectoryBuildProps>", project, StringComparison.Ordinal);
    }

    [Fact]
    public void Execute_MissingPackages_ContinuesOnceTheRestoreProvidesThem()
    {
        Restored("torchsharp/0.107.0", "runtimes/linux-x64/native/libLibTorchSharp.so");
        Restored("microsoft.ml.onnxruntime/1.31.0");
        var packages = Path.Combine(_temp.Path, "packages");
        // A dotnet whose restore puts the package in place, as NuGet would (the .nupkg.metadata file last).
        var restoring = Script("ok-dotnet", $"""
            d='{packages}/libtorch-cpu-linux-x64/2.10.0'
            mkdir -p "$d/runtimes/linux-x64/native" && echo t > "$d/runtimes/linux-x64/native/libtorch_cpu.so" && echo '{"{}"}' > "$d/.nupkg.metadata"
            echo "$@" > '{_temp.Path}/restore-args.txt'
            """);
        var (task, engine) = Task("linux", "x64", dotnet: restoring);

        Assert.True(task.Execute(), Describe(engine));
        Assert.True(File.Exists(Path.Combine(task.NativeDirectory, "libtorch_cpu.so")));
        var arguments = File.ReadAllText(Path.Combine(_temp.Path, "restore-args.txt"));
        Assert.StartsWith("restore ", arguments, StringComparison.Ordinal);
        Assert.Contains("--packages " + packages, arguments, StringComparison.Ordinal);
        Assert.Contains(engine.Messages, m => m.Importance == MessageImportance.High && m.Message!.Contains("are restored", StringComparison.Ordinal));
    }

    private (PrepareEngine Task, FakeBuildEngine Engine) Task(string os, string arch, string torch = "cpu", string ort = "cpu", string dotnet = "")
    {
        var engine = new FakeBuildEngine();
        var task = new PrepareEngine
        {
            BuildEngine = engine,
            Packages =
            [
                Package("TorchSharp", "0.107.0", 3_345_464),
                Package("Microsoft.ML.OnnxRuntime", "1.31.0", 159_626_085),
                Package("libtorch-cpu-linux-x64", "2.10.0", 128_200_806, "linux-x64"),
                Package("libtorch-cpu-win-x64", "2.10.0", 0, "win-x64"),
            ],
            PackageRoot = Path.Combine(_temp.Path, "packages"),
            WorkDirectory = Path.Combine(_temp.Path, "obj", "compress"),
            TorchDevice = torch,
            OnnxRuntime = ort,
            DotnetHost = dotnet,
            SkipLibTorchFix = true,
            OperatingSystem = os,
            Architecture = arch,
        };
        return (task, engine);
    }

    private static TaskItem Package(string id, string version, long bytes, string rid = "")
    {
        var item = new TaskItem(id);
        item.SetMetadata("Version", version);
        item.SetMetadata("Bytes", bytes.ToString(System.Globalization.CultureInfo.InvariantCulture));
        item.SetMetadata("Rid", rid);
        return item;
    }

    /// <summary>A package folder as NuGet leaves it, with files whose content is their own name.</summary>
    private void Restored(string folder, params string[] files)
    {
        _temp.File($"packages/{folder}/.nupkg.metadata", "{}");
        foreach (var file in files) _temp.File($"packages/{folder}/{file}", Path.GetFileName(file));
    }

    private string Script(string name, string body)
    {
        var path = _temp.File(name, "#!/bin/sh\n" + body + "\n");
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return path;
    }

    private static string Describe(FakeBuildEngine engine) =>
        string.Join("\n", engine.Errors.Select(e => e.Code + ": " + e.Message).Concat(engine.Messages.Select(m => m.Message)));
}

using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Security;
using System.Text;
using Compress.Build;
using Compress.Tasks.Engine;
using Microsoft.Build.Framework;

namespace Compress.Tasks;

/// <summary>
/// Package only: makes the engine runnable, cheaply when it already is. (1) The engine's own packages (TorchSharp,
/// libtorch for this machine, ONNX Runtime ... at the exact versions the engine was built with) must be in the NuGet
/// global packages folder: they are not dependencies of the Compress package, so they never join the consumer's
/// dependency graph. Missing ones are restored once, by a private restore project under obj/, after a message that
/// says what is downloaded and how big it is. (2) A native folder holds links to libtorch's libraries (CPU, or CUDA
/// with TorchDevice=cuda), a copy of TorchSharp's native library (patched on Linux when the system libstdc++ is too
/// old) and, with OnnxRuntime=gpu, ONNX Runtime's GPU build; the engine loads from there. A stamp file records what
/// the folder was made from, so an up-to-date build only reads one small file and checks a few paths.
/// </summary>
public sealed class PrepareEngine : Microsoft.Build.Utilities.Task, ICancelableTask
{
    private const string StampName = ".compress-native";
    private Process? _restore;
    private volatile bool _cancelled;

    /// <summary>The engine's packages: Include = id, metadata Version, Bytes (.nupkg size, optional), Rid (optional).</summary>
    [Required]
    public ITaskItem[] Packages { get; set; } = [];

    /// <summary>The NuGet global packages folder ($(NuGetPackageRoot)); empty: NUGET_PACKAGES, then ~/.nuget/packages.</summary>
    public string PackageRoot { get; set; } = string.Empty;

    /// <summary>Folder for the private restore project and the native folders (shared by every configuration).</summary>
    [Required]
    public string WorkDirectory { get; set; } = string.Empty;

    /// <summary>cpu (default) or cuda: which libtorch the native folder links.</summary>
    public string TorchDevice { get; set; } = "cpu";

    /// <summary>cpu (default) or gpu: gpu adds ONNX Runtime's GPU build to the native folder.</summary>
    public string OnnxRuntime { get; set; } = "cpu";

    /// <summary>The dotnet executable for the restore; empty: DOTNET_HOST_PATH, then dotnet on PATH.</summary>
    public string DotnetHost { get; set; } = string.Empty;

    /// <summary>True: copy TorchSharp's native library without the libstdc++ patch.</summary>
    public bool SkipLibTorchFix { get; set; }

    /// <summary>The project being built, for diagnostics.</summary>
    public string ProjectFullPath { get; set; } = string.Empty;

    /// <summary>For tests: the OS (linux, windows, osx) and architecture (x64, arm64) to prepare for; empty: this machine.</summary>
    public string OperatingSystem { get; set; } = string.Empty;

    /// <inheritdoc cref="OperatingSystem" />
    public string Architecture { get; set; } = string.Empty;

    /// <summary>The folder the engine loads its native libraries from (COMPRESS_NATIVE_DIR).</summary>
    [Output]
    public string NativeDirectory { get; private set; } = string.Empty;

    /// <summary>The folder the host resolves the engine's managed and native package assets from.</summary>
    [Output]
    public string ProbingPaths { get; private set; } = string.Empty;

    private string ProjectFile => ProjectFullPath.Length > 0 ? ProjectFullPath : BuildEngine?.ProjectFileOfTaskNode ?? string.Empty;

    /// <inheritdoc />
    public void Cancel()
    {
        _cancelled = true;
        try
        {
            _restore?.Kill();
        }
        catch (InvalidOperationException)
        {
            // Already exited.
        }
    }

    /// <inheritdoc />
    public override bool Execute()
    {
        var runtime = OperatingSystem.Length > 0
            ? EngineRuntime.For(OperatingSystem, Architecture, out var reason)
            : EngineRuntime.Current(out reason);
        if (runtime is null)
        {
            Error(TaskDiagnosticCode.UnsupportedPlatform, reason + " Build on one of those, or set CompressEnabled=false here.");
            return false;
        }
        if (TorchDevice != "cpu" && TorchDevice != "cuda")
        {
            Error(TaskDiagnosticCode.InvalidMetadataValue, $"CompressTorchDevice is '{TorchDevice}'; use cpu (the default) or cuda.");
        }
        if (OnnxRuntime != "cpu" && OnnxRuntime != "gpu")
        {
            Error(TaskDiagnosticCode.InvalidMetadataValue, $"CompressOnnxRuntime is '{OnnxRuntime}'; use cpu (the default) or gpu.");
        }
        if ((TorchDevice == "cuda" || OnnxRuntime == "gpu") && !runtime.CudaPackagesExist)
        {
            Error(TaskDiagnosticCode.UnsupportedPlatform, $"CUDA builds of libtorch and ONNX Runtime exist for linux-x64 and win-x64 only, not {runtime.Rid}. Use CompressTorchDevice=cpu and CompressOnnxRuntime=cpu.");
        }
        if (Log.HasLoggedErrors)
        {
            return false;
        }

        var root = ResolvePackageRoot();
        var packages = Packages.Select(Parse).Where(p => p.Rid.Length == 0 || p.Rid == runtime.Rid).ToList();
        string torchSharpVersion = VersionOf(packages, "TorchSharp");
        string libTorchVersion = VersionOf(packages, runtime.LibTorchCpuPackage);
        string onnxRuntimeVersion = VersionOf(packages, "Microsoft.ML.OnnxRuntime");
        if (torchSharpVersion.Length == 0 || libTorchVersion.Length == 0 || onnxRuntimeVersion.Length == 0)
        {
            Error(TaskDiagnosticCode.EngineNotFound, $"The engine's package list names no TorchSharp, {runtime.LibTorchCpuPackage} or Microsoft.ML.OnnxRuntime; the Compress package is incomplete. Reinstall it.");
            return false;
        }
        // Device builds come from packages NuGet resolves with their dependencies (the CUDA libtorch is split into parts).
        var references = new List<EnginePackage>();
        if (TorchDevice == "cuda") references.Add(new EnginePackage(runtime.TorchSharpCudaPackage, torchSharpVersion, 0, runtime.Rid));
        if (OnnxRuntime == "gpu") references.Add(new EnginePackage(runtime.OnnxRuntimeGpuPackage, onnxRuntimeVersion, 0, runtime.Rid));

        var missing = packages.Concat(references).Where(p => !p.IsRestoredIn(root)).ToList();
        if (missing.Count > 0 && !Restore(root, packages, references, missing))
        {
            return false;
        }

        ProbingPaths = root;
        NativeDirectory = PrepareNative(runtime, root, torchSharpVersion, libTorchVersion, onnxRuntimeVersion) ?? string.Empty;
        return !Log.HasLoggedErrors;
    }

    private string ResolvePackageRoot()
    {
        var root = PackageRoot.Trim();
        if (root.Length == 0) root = Environment.GetEnvironmentVariable("NUGET_PACKAGES") ?? string.Empty;
        if (root.Length == 0) root = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        return Path.GetFullPath(root);
    }

    private static EnginePackage Parse(ITaskItem item)
    {
        long.TryParse(item.GetMetadata("Bytes"), NumberStyles.None, CultureInfo.InvariantCulture, out var bytes);
        return new EnginePackage(item.ItemSpec, item.GetMetadata("Version"), bytes, item.GetMetadata("Rid"));
    }

    private static string VersionOf(IEnumerable<EnginePackage> packages, string id) =>
        packages.FirstOrDefault(p => string.Equals(p.Id, id, StringComparison.OrdinalIgnoreCase))?.Version ?? string.Empty;

    /// <summary>One private restore of every missing package; false (with CMP0611) when it fails.</summary>
    private bool Restore(string root, IReadOnlyList<EnginePackage> downloads, IReadOnlyList<EnginePackage> references, List<EnginePackage> missing)
    {
        long known = missing.Sum(p => p.Bytes);
        var sizes = string.Join(", ", missing.Select(p => p.Bytes > 0 ? $"{p} ({Megabytes(p.Bytes)})" : p.ToString()));
        Log.LogMessage(MessageImportance.High,
            "Compress: first use of the engine on this machine: restoring {0} package(s), {1}{2}, into {3}: {4}. This happens once; later builds reuse them.",
            missing.Count, Megabytes(known), missing.Any(p => p.Bytes == 0) ? " plus packages of unrecorded size" : string.Empty, root, sizes);

        var folder = Path.Combine(Path.GetFullPath(WorkDirectory), "engine-restore");
        var project = Path.Combine(folder, "compress-engine.csproj");
        try
        {
            Directory.CreateDirectory(folder);
            File.WriteAllText(project, RestoreProject(downloads, references), new UTF8Encoding(false));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Error(TaskDiagnosticCode.EngineRestoreFailed, $"Could not write the engine's restore project '{project}': {e.Message} Check the folder is writable.");
            return false;
        }

        var dotnet = DotnetCommand.Resolve(DotnetHost);
        if (dotnet is null)
        {
            Error(TaskDiagnosticCode.EngineNotFound, $"The dotnet host '{(DotnetHost.Length == 0 ? "dotnet" : DotnetHost)}' that restores the engine's packages was not found. Set CompressDotnetHost to the dotnet executable.");
            return false;
        }
        var clock = Stopwatch.StartNew();
        var (exitCode, output) = RunRestore(dotnet, project, root);
        if (_cancelled)
        {
            return false;
        }
        var stillMissing = missing.Where(p => !p.IsRestoredIn(root)).ToList();
        if (exitCode != 0 || stillMissing.Count > 0)
        {
            var tail = string.Join(Environment.NewLine, output.Where(l => l.IndexOf("error", StringComparison.OrdinalIgnoreCase) >= 0).Take(10)
                .DefaultIfEmpty(output.LastOrDefault() ?? string.Empty));
            Error(TaskDiagnosticCode.EngineRestoreFailed,
                $"Restoring the engine's packages failed (dotnet restore exited with {exitCode}; still missing: {(stillMissing.Count == 0 ? "none" : string.Join(", ", stillMissing))}). " +
                $"The package sources of this project's NuGet configuration must serve them. Restore output: {tail} " +
                $"Retry with the network available, or run: dotnet restore \"{project}\" --packages \"{root}\"");
            return false;
        }
        Log.LogMessage(MessageImportance.High, "Compress: the engine's packages are restored ({0:F0} s).", clock.Elapsed.TotalSeconds);
        return true;
    }

    /// <summary>
    /// A project that only downloads: no framework reference, no Directory.Build.* or central package management from
    /// the consumer's tree (it lives under the consumer's obj/ so that its NuGet configuration applies).
    /// </summary>
    internal static string RestoreProject(IEnumerable<EnginePackage> downloads, IEnumerable<EnginePackage> references)
    {
        var text = new StringBuilder();
        text.AppendLine("<Project>");
        text.AppendLine("  <!-- Written by the Compress package: restores the engine's own packages into the NuGet global packages folder. -->");
        text.AppendLine("  <PropertyGroup>");
        text.AppendLine("    <ImportDirectoryBuildProps>false</ImportDirectoryBuildProps>");
        text.AppendLine("    <ImportDirectoryBuildTargets>false</ImportDirectoryBuildTargets>");
        text.AppendLine("    <ImportDirectoryPackagesProps>false</ImportDirectoryPackagesProps>");
        text.AppendLine("    <ManagePackageVersionsCentrally>false</ManagePackageVersionsCentrally>");
        text.AppendLine("  </PropertyGroup>");
        text.AppendLine("  <Import Project=\"Sdk.props\" Sdk=\"Microsoft.NET.Sdk\" />");
        text.AppendLine("  <PropertyGroup>");
        text.AppendLine("    <TargetFramework>netstandard2.0</TargetFramework>");
        text.AppendLine("    <DisableImplicitFrameworkReferences>true</DisableImplicitFrameworkReferences>");
        text.AppendLine("    <NuGetAudit>false</NuGetAudit>");
        text.AppendLine("  </PropertyGroup>");
        text.AppendLine("  <ItemGroup>");
        foreach (var p in downloads)
            text.AppendLine($"    <PackageDownload Include=\"{SecurityElement.Escape(p.Id)}\" Version=\"[{SecurityElement.Escape(p.Version)}]\" />");
        foreach (var p in references)
            text.AppendLine($"    <PackageReference Include=\"{SecurityElement.Escape(p.Id)}\" Version=\"[{SecurityElement.Escape(p.Version)}]\" />");
        text.AppendLine("  </ItemGroup>");
        text.AppendLine("  <Import Project=\"Sdk.targets\" Sdk=\"Microsoft.NET.Sdk\" />");
        text.AppendLine("</Project>");
        return text.ToString();
    }

    private (int ExitCode, List<string> Output) RunRestore(string dotnet, string project, string root)
    {
        var start = new ProcessStartInfo(dotnet)
        {
            Arguments = $"restore \"{project}\" --packages \"{root}\" -nologo",
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            CreateNoWindow = true,
            WorkingDirectory = Path.GetDirectoryName(project)!,
        };
        // The build's own MSBuild variables (node settings, server) are not for this separate restore.
        foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            start.Environment.Remove(key);
        }
        var output = new List<string>();
        using var process = new Process { StartInfo = start };
        void Collect(object sender, DataReceivedEventArgs e)
        {
            if (e.Data is null) return;
            lock (output) output.Add(e.Data);
        }
        process.OutputDataReceived += Collect;
        process.ErrorDataReceived += Collect;
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return (-1, [$"could not start {dotnet}: {e.Message}"]);
        }
        _restore = process;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        process.WaitForExit();
        _restore = null;
        foreach (var line in output) Log.LogMessage(MessageImportance.Low, "{0}", line);
        return (process.ExitCode, output);
    }

    /// <summary>The native folder for this runtime and device choice, made anew only when what it links changed.</summary>
    private string? PrepareNative(EngineRuntime runtime, string root, string torchSharpVersion, string libTorchVersion, string onnxRuntimeVersion)
    {
        var folder = Path.Combine(Path.GetFullPath(WorkDirectory), "native", $"{runtime.Rid}-{TorchDevice}-{OnnxRuntime}") + Path.DirectorySeparatorChar;
        var torchSharpLibrary = Path.Combine(root, "torchsharp", torchSharpVersion.ToLowerInvariant(), "runtimes", runtime.Rid, "native", runtime.TorchSharpLibrary);
        if (!File.Exists(torchSharpLibrary))
        {
            Error(TaskDiagnosticCode.NativeLibraryNotFound, $"{runtime.TorchSharpLibrary} was not found in the NuGet cache at '{torchSharpLibrary}'. Delete '{Path.GetDirectoryName(torchSharpLibrary)}' 's package folder and build again to restore it.");
            return null;
        }

        var sources = new List<string>();
        if (TorchDevice == "cuda")
        {
            // TorchSharp-cuda-* pulls libtorch-cuda-<cuda>-<rid>[-partN] packages; their libraries go together.
            var cuda = Directory.Exists(root)
                ? Directory.GetDirectories(root, "libtorch-cuda-*").Where(d => Path.GetFileName(d).Contains(runtime.Rid)).OrderBy(d => d, StringComparer.Ordinal)
                : Enumerable.Empty<string>();
            sources.AddRange(cuda.SelectMany(d => NativeFiles(Path.Combine(d, libTorchVersion.ToLowerInvariant()), runtime.Rid)));
            if (!sources.Any(s => Path.GetFileName(s).StartsWith("libtorch_cuda", StringComparison.Ordinal) || Path.GetFileName(s).StartsWith("torch_cuda", StringComparison.Ordinal)))
            {
                Error(TaskDiagnosticCode.AcceleratorPackageNotFound, $"CompressTorchDevice=cuda, but no CUDA libtorch {libTorchVersion} (libtorch-cuda-*-{runtime.Rid}) is in the NuGet cache '{root}' after restoring {runtime.TorchSharpCudaPackage} {torchSharpVersion}. Check that this project's package sources serve it, or set CompressTorchDevice=cpu.");
                return null;
            }
        }
        else
        {
            sources.AddRange(NativeFiles(Path.Combine(root, runtime.LibTorchCpuPackage, libTorchVersion.ToLowerInvariant()), runtime.Rid));
        }
        if (OnnxRuntime == "gpu")
        {
            var gpu = NativeFiles(Path.Combine(root, runtime.OnnxRuntimeGpuPackage.ToLowerInvariant(), onnxRuntimeVersion.ToLowerInvariant()), runtime.Rid).ToList();
            if (!gpu.Any(f => Path.GetFileName(f).StartsWith(Path.GetFileNameWithoutExtension(runtime.OnnxRuntimeLibrary), StringComparison.Ordinal)))
            {
                Error(TaskDiagnosticCode.AcceleratorPackageNotFound, $"CompressOnnxRuntime=gpu, but {runtime.OnnxRuntimeGpuPackage} {onnxRuntimeVersion} has no {runtime.OnnxRuntimeLibrary} in the NuGet cache '{root}'. Check that this project's package sources serve it, or set CompressOnnxRuntime=cpu.");
                return null;
            }
            sources.AddRange(gpu);
        }

        bool patch = runtime.PatchElf && !SkipLibTorchFix;
        var stamp = Path.Combine(folder, StampName);
        var signature = string.Join("\n", new[] { "torchsharp " + torchSharpLibrary + " " + File.GetLastWriteTimeUtc(torchSharpLibrary).Ticks, "patch " + patch }
            .Concat(sources.Select(s => "link " + s))) + "\n";
        if (File.Exists(stamp) && File.ReadAllText(stamp) == signature)
        {
            return folder;
        }

        // The inner builds of a multi-targeted project get here at the same time for the same folder: one at a time.
        using var gate = Lock(folder.TrimEnd(Path.DirectorySeparatorChar) + ".lock");
        if (gate is null)
        {
            Error(TaskDiagnosticCode.NativeLibraryNotFound, $"Could not prepare the engine's native folder '{folder}': another build held its lock for {LockWait.TotalMinutes:0} minutes. Build again.");
            return null;
        }
        if (File.Exists(stamp) && File.ReadAllText(stamp) == signature)
        {
            return folder;
        }

        // Built in a folder of its own, then renamed into place: the inner builds of a multi-targeted project run this
        // at the same time for the same folder, and none may see another's half-made files.
        var building = folder.TrimEnd(Path.DirectorySeparatorChar) + ".building-" + Guid.NewGuid().ToString("N");
        try
        {
            Directory.CreateDirectory(building);
            foreach (var source in sources)
            {
                Link(source, Path.Combine(building, Path.GetFileName(source)));
            }
            // A real copy: this one may be patched, and the cache must never be.
            var copy = Path.Combine(building, runtime.TorchSharpLibrary);
            File.Copy(torchSharpLibrary, copy, overwrite: true);
            if (patch) PatchLibStdCxxNeeds(copy);
            if (Log.HasLoggedErrors) return null;
            File.WriteAllText(Path.Combine(building, StampName), signature, new UTF8Encoding(false));
            if (!(File.Exists(stamp) && File.ReadAllText(stamp) == signature))
            {
                if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
                try
                {
                    Directory.Move(building, folder.TrimEnd(Path.DirectorySeparatorChar));
                }
                catch (IOException) when (File.Exists(stamp) && File.ReadAllText(stamp) == signature)
                {
                    // Another inner build put an identical folder in place first.
                }
            }
            Log.LogMessage(MessageImportance.Normal, "Compress: native folder {0} ({1} libtorch/ONNX Runtime files linked).", folder, sources.Count);
            return folder;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Error(TaskDiagnosticCode.NativeLibraryNotFound, $"Could not prepare the engine's native folder '{folder}': {e.Message} Check the folder is writable.");
            return null;
        }
        finally
        {
            try
            {
                if (Directory.Exists(building)) Directory.Delete(building, recursive: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                Log.LogMessage(MessageImportance.Low, "Compress: could not remove {0}: {1}", building, e.Message);
            }
        }
    }

    private static readonly TimeSpan LockWait = TimeSpan.FromMinutes(5);

    /// <summary>An exclusively opened lock file (other processes and nodes wait for it), or null after <see cref="LockWait"/>.</summary>
    private static FileStream? Lock(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var deadline = DateTime.UtcNow + LockWait;
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                Thread.Sleep(100);
            }
            catch (IOException)
            {
                return null;
            }
        }
    }

    private static IEnumerable<string> NativeFiles(string packageFolder, string rid)
    {
        var native = Path.Combine(packageFolder, "runtimes", rid, "native");
        return Directory.Exists(native) ? Directory.GetFiles(native).OrderBy(f => f, StringComparer.Ordinal) : Enumerable.Empty<string>();
    }

    private void PatchLibStdCxxNeeds(string library)
    {
        const string provider = "libstdc++.so.6";
        var providerPath = ElfVersionPatcher.FindSystemLibrary(provider);
        if (providerPath is null)
        {
            Log.LogMessage(MessageImportance.Normal, "Compress: {0} not found in the usual library folders; {1} left as it is.", provider, library);
            return;
        }
        try
        {
            Log.LogMessage(MessageImportance.Normal, "Compress: {0}", ElfVersionPatcher.PatchFile(library, provider, providerPath));
        }
        catch (Exception e) when (e is InvalidOperationException or InvalidDataException or IOException)
        {
            Log.LogError(null, "CMP0002", null, library, 0, 0, 0, 0, "Compress: {0}", e.Message);
        }
    }

    /// <summary>A symbolic link where the OS has them (libtorch is hundreds of MB), a copy on Windows.</summary>
    private static void Link(string source, string destination)
    {
        if (RuntimeInformation.IsOSPlatform(OSPlatform.Windows) || symlink(source, destination) != 0)
        {
            File.Copy(source, destination, overwrite: true);
        }
    }

    [DllImport("libc", SetLastError = true, CharSet = CharSet.Ansi, BestFitMapping = false, ThrowOnUnmappableChar = true)]
    private static extern int symlink(string target, string linkPath);

    /// <summary>Whole megabytes, with one decimal below 10 MB so that small packages do not read "0 MB".</summary>
    private static string Megabytes(long bytes)
    {
        double megabytes = bytes / (1024.0 * 1024.0);
        return megabytes.ToString(megabytes < 10 ? "F1" : "F0", CultureInfo.InvariantCulture) + " MB";
    }

    private void Error(string code, string message) =>
        Log.LogError(null, code, null, ProjectFile, 0, 0, 0, 0, "{0}", message);
}

using System.Runtime.InteropServices;
using Compress.Build;

namespace Compress.Engine.Tests.Build;

public class ElfVersionPatcherTests
{
    private const string Provider = "libstdc++.so.6";

    private static string OutputLibrary => Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");

    /// <summary>The untouched library in the NuGet package folder (the build patches only its copies).</summary>
    private static string PristineLibrary
    {
        get
        {
            string packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
                ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
            return Path.Combine(packages, "torchsharp", "0.107.0", "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        }
    }

    private static bool OnLinuxX64 => OperatingSystem.IsLinux() && RuntimeInformation.OSArchitecture == Architecture.X64;

    [Fact]
    public void BuildOutput_EveryVersionMissingFromSystemLibstdcxx_IsMarkedWeak()
    {
        if (!OnLinuxX64) return; // the library under test exists only on linux-x64
        var system = ElfVersionPatcher.FindSystemLibrary(Provider);
        Assert.NotNull(system);
        var defined = ElfFile.Load(system).VersionDefinitions();
        var needs = ElfFile.Load(OutputLibrary).VersionNeeds().Where(n => n.File == Provider).ToList();
        Assert.NotEmpty(needs);
        foreach (var need in needs)
            Assert.True(defined.Contains(need.Name) || need.IsWeak, $"{need.Name} is neither provided by {system} nor weak");
        Assert.Empty(ElfVersionPatcher.Plan(ElfFile.Load(OutputLibrary), Provider, ElfFile.Load(system)));
    }

    [Fact]
    public void Plan_PristineLibraryOnOldSystem_TargetsOnlyUnrelocatedGlibcxx3432()
    {
        if (!OnLinuxX64 || !File.Exists(PristineLibrary)) return;
        var system = ElfFile.Load(ElfVersionPatcher.FindSystemLibrary(Provider)!);
        var actions = ElfVersionPatcher.Plan(ElfFile.Load(PristineLibrary), Provider, system);
        if (system.VersionDefinitions().Contains("GLIBCXX_3.4.32"))
        {
            Assert.Empty(actions); // a new enough system: the library is left alone
            return;
        }
        var action = Assert.Single(actions);
        Assert.Equal("GLIBCXX_3.4.32", action.Need.Name);
        Assert.Equal(["_ZSt21ios_base_library_initv"], action.Symbols);
        Assert.True(action.IsSafe);
    }

    [Fact]
    public void PatchFile_CopyOfPristineLibrary_ChangesOnlyTheFlagBytesAndIsIdempotent()
    {
        if (!OnLinuxX64 || !File.Exists(PristineLibrary)) return;
        string system = ElfVersionPatcher.FindSystemLibrary(Provider)!;
        string dir = Directory.CreateTempSubdirectory("elfpatch").FullName;
        try
        {
            string copy = Path.Combine(dir, "libLibTorchSharp.so");
            File.Copy(PristineLibrary, copy);
            var before = File.ReadAllBytes(copy);
            var planned = ElfVersionPatcher.Plan(ElfFile.Load(copy), Provider, ElfFile.Load(system));
            string first = ElfVersionPatcher.PatchFile(copy, Provider, system);
            var after = File.ReadAllBytes(copy);
            Assert.Equal(before.Length, after.Length);
            var changed = Enumerable.Range(0, before.Length).Where(i => before[i] != after[i]).ToList();
            Assert.Equal(planned.Count, changed.Count); // one flag byte (VER_FLG_WEAK = 0x2) per planned version
            foreach (int i in changed) Assert.Equal(before[i] | ElfFile.VerFlagWeak, after[i]);
            Assert.Empty(ElfVersionPatcher.Plan(ElfFile.Load(copy), Provider, ElfFile.Load(system)));
            Assert.Contains("nothing to do", ElfVersionPatcher.PatchFile(copy, Provider, system), StringComparison.Ordinal);
            if (planned.Count > 0) Assert.Contains("marked", first, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void Apply_ActionWhoseSymbolIsRelocated_ThrowsAndChangesNothing()
    {
        if (!OnLinuxX64 || !File.Exists(PristineLibrary)) return;
        var library = ElfFile.Load(PristineLibrary);
        var need = library.VersionNeeds().First(n => n.File == Provider);
        var before = (byte[])library.Bytes.Clone();
        var unsafeAction = new ElfPatchAction(need, ["someSymbol"], ["someSymbol"]);
        var e = Assert.Throws<InvalidOperationException>(() => ElfVersionPatcher.Apply(library, [unsafeAction]));
        Assert.Contains("someSymbol", e.Message, StringComparison.Ordinal);
        Assert.Equal(before, library.Bytes);
    }

    [Fact]
    public void Load_NotAnElfFile_ThrowsInvalidData()
    {
        Assert.Throws<InvalidDataException>(() => new ElfFile(new byte[100], "x.so"));
    }
}

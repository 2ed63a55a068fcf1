using System.IO.Compression;
using System.Xml.Linq;

namespace Compress.Tasks.Tests;

/// <summary>
/// The package as users get it: `dotnet pack` into a local feed, then a fresh project that only has a PackageReference
/// and a CompressModel item builds a pruned ONNX with the real engine (libtorch and ONNX Runtime from the NuGet cache).
/// </summary>
public sealed class PackagedConsumerTests : IClassFixture<PackedFeed>, IDisposable
{
    private readonly PackedFeed _feed;
    private readonly TempFolder _temp = new();

    public PackagedConsumerTests(PackedFeed feed) => _feed = feed;

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void Pack_Package_HasTheLayoutCompressPropsExpectsAndNoNativeLibraries()
    {
        Assert.True(_feed.PackExitCode == 0, _feed.PackOutput);
        var size = new FileInfo(_feed.PackagePath).Length;
        Assert.True(size < 10 * 1024 * 1024, $"package is {size} bytes");

        using var zip = ZipFile.OpenRead(_feed.PackagePath);
        var entries = zip.Entries.Select(e => e.FullName).ToHashSet(StringComparer.Ordinal);
        Assert.All(new[]
        {
            "build/Compress.props", "build/Compress.targets", "build/compress.schema.json",
            "build/CompressNative.targets", "build/ElfVersionPatcher.cs", "tasks/netstandard2.0/Compress.Tasks.dll",
            "tools/net10.0/any/compress.dll", "tools/net10.0/any/compress.deps.json",
            "tools/net10.0/any/compress.runtimeconfig.json", "tools/net10.0/any/Compress.Engine.dll",
            "tools/net10.0/any/TorchSharp.dll", "tools/net10.0/any/Microsoft.ML.OnnxRuntime.dll",
        }, e => Assert.Contains(e, entries));
        Assert.DoesNotContain(entries, e => e.StartsWith("lib/", StringComparison.Ordinal) || e.Contains("runtimes/", StringComparison.Ordinal)
            || e.EndsWith(".so", StringComparison.Ordinal) || e.Contains(".so.", StringComparison.Ordinal));

        var nuspecEntry = zip.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal));
        using var nuspecStream = nuspecEntry.Open();
        var nuspec = XDocument.Load(nuspecStream);
        var ns = nuspec.Root!.Name.Namespace;
        Assert.Equal("true", nuspec.Descendants(ns + "developmentDependency").Single().Value);
        var dependencies = nuspec.Descendants(ns + "dependency").ToDictionary(d => (string)d.Attribute("id")!, d => (string?)d.Attribute("include"));
        Assert.All(new[] { "TorchSharp", "libtorch-cpu-linux-x64", "Microsoft.ML.OnnxRuntime" }, id =>
        {
            Assert.True(dependencies.ContainsKey(id), id);
            // Nothing but (absent) content files flows into the consumer: no compile references, no natives copied.
            Assert.Equal("ContentFiles", dependencies[id]);
        });

        // The packaged deps.json leaves TorchSharp's linux native out (the engine loads the patched copy instead).
        using var deps = new StreamReader(zip.GetEntry("tools/net10.0/any/compress.deps.json")!.Open());
        var depsText = deps.ReadToEnd();
        Assert.DoesNotContain("runtimes/linux-x64/native/libLibTorchSharp.so", depsText, StringComparison.Ordinal);
        Assert.Contains("runtimes/linux-x64/native/libtorch_cpu.so", depsText, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_ConsumerWithPackageReference_WritesOnnxSkipsWhenUpToDateAndFailsTheGate()
    {
        Assert.True(_feed.PackExitCode == 0, _feed.PackOutput);
        var app = Path.Combine(_temp.Path, "app");
        Directory.CreateDirectory(app);
        var engine = Path.Combine(RepoPaths.Root, "src", "Compress.Cli", "bin", _feed.Configuration, "net8.0", "compress.dll");
        var (exit, output) = DotnetCli.Run(app, engine, "train", "--model", "resnet18-cifar", "-w", "0.0625",
            "--synthetic-train", "320", "--synthetic-test", "160", "--epochs", "1", "--batch-size", "32", "--output", "w.safetensors");
        Assert.True(exit == 0, output);

        // No <clear/>: the machine's own sources stay, so TorchSharp, libtorch and ONNX Runtime restore as usual.
        _temp.File("app/nuget.config", $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <add key="compress-test-feed" value="{_feed.FeedDirectory}" />
              </packageSources>
            </configuration>
            """);
        _temp.File("app/app.csproj", $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <TargetFramework>net10.0</TargetFramework>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="Compress" Version="{_feed.Version}" />
                <CompressModel Include="w.safetensors" Architecture="resnet18-cifar" WidthMultiplier="0.0625" Data="synthetic" PruneRate="knee" FineTuneEpochs="0" />
              </ItemGroup>
            </Project>
            """);
        _temp.File("app/C.cs", "namespace App; public static class C { }");
        var bin = Path.Combine(app, "bin", "Debug", "net10.0");

        (exit, output) = Build(app);
        Assert.True(exit == 0, output);
        Assert.True(new FileInfo(Path.Combine(bin, "w.onnx")).Length > 1000, output);
        using (var report = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(bin, "w.report.json"))))
        {
            Assert.NotEmpty(report.RootElement.EnumerateObject());
        }
        // The engine's packages stay in the NuGet cache: nothing native lands in the consumer's output.
        Assert.Empty(Directory.GetFiles(bin, "*.so*", SearchOption.AllDirectories));
        Assert.False(File.Exists(Path.Combine(bin, "TorchSharp.dll")));

        (exit, output) = Build(app, "-v:n");
        Assert.True(exit == 0, output);
        Assert.Contains("Skipping target \"_CompressModelsCore\" because all output files are up-to-date", output, StringComparison.Ordinal);

        // Publish carries the artifact and its report (the build inside publish is up to date, so no engine run).
        var publish = Path.Combine(_temp.Path, "publish");
        (exit, output) = DotnetCli.Run(app, "publish", "-nologo", "-nodeReuse:false", "-p:UseSharedCompilation=false", "-o", publish);
        Assert.True(exit == 0, output);
        Assert.Equal(File.ReadAllBytes(Path.Combine(bin, "w.onnx")), File.ReadAllBytes(Path.Combine(publish, "w.onnx")));
        Assert.True(File.Exists(Path.Combine(publish, "w.report.json")), output);
        Assert.Empty(Directory.GetFiles(publish, "*.so*", SearchOption.AllDirectories));

        File.SetLastWriteTimeUtc(Path.Combine(app, "w.safetensors"), DateTime.UtcNow.AddMinutes(1));
        (exit, output) = Build(app, "-p:CompressMinAccuracy=99.9");
        Assert.Equal(1, exit);
        Assert.Contains("error CMP0623", output, StringComparison.Ordinal);
    }

    private static (int ExitCode, string Output) Build(string app, params string[] extra) =>
        DotnetCli.Run(app, ["build", "-nologo", "-nodeReuse:false", "-p:UseSharedCompilation=false", .. extra]);
}

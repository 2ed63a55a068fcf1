using System.IO.Compression;
using System.Text.Json;
using System.Xml.Linq;

namespace Compress.Tasks.Tests;

/// <summary>
/// The package as users get it: `dotnet pack` into a local feed, then fresh projects that only have a PackageReference
/// and a CompressModel item build a pruned ONNX with the real engine (its packages restored privately into the NuGet
/// cache, never into the consumer's graph).
/// </summary>
[Collection(RepoOutputs.Name)]
public sealed class PackagedConsumerTests : IClassFixture<PackedFeed>, IDisposable
{
    private readonly PackedFeed _feed;
    private readonly TempFolder _temp = new();

    public PackagedConsumerTests(PackedFeed feed) => _feed = feed;

    public void Dispose() => _temp.Dispose();

    private static string Engine(PackedFeed feed) =>
        Path.Combine(RepoPaths.Root, "src", "Compress.Cli", "bin", feed.Configuration, "net8.0", "compress.dll");

    [Fact]
    public void Pack_Package_HasNoDependenciesTheEngineForNet8AndItsPackageList()
    {
        Assert.True(_feed.PackExitCode == 0, _feed.PackOutput);
        var size = new FileInfo(_feed.PackagePath).Length;
        Assert.True(size < 10 * 1024 * 1024, $"package is {size} bytes");

        using var zip = ZipFile.OpenRead(_feed.PackagePath);
        var entries = zip.Entries.Select(e => e.FullName).ToHashSet(StringComparer.Ordinal);
        Assert.All(new[]
        {
            "README.md", "build/Compress.props", "build/Compress.targets", "build/compress.schema.json",
            "build/CompressNative.targets", "build/CompressEnginePackages.targets", "tasks/netstandard2.0/Compress.Tasks.dll",
            "tools/net8.0/any/compress.dll", "tools/net8.0/any/compress.deps.json",
            "tools/net8.0/any/compress.runtimeconfig.json", "tools/net8.0/any/Compress.Engine.dll",
            "tools/net8.0/any/TorchSharp.dll", "tools/net8.0/any/Microsoft.ML.OnnxRuntime.dll",
        }, e => Assert.Contains(e, entries));
        Assert.DoesNotContain(entries, e => e.StartsWith("lib/", StringComparison.Ordinal) || e.Contains("runtimes/", StringComparison.Ordinal)
            || e.EndsWith(".so", StringComparison.Ordinal) || e.Contains(".so.", StringComparison.Ordinal)
            || e.Contains("MathNet", StringComparison.Ordinal) || e.EndsWith(".cs", StringComparison.Ordinal));

        // No dependency of any kind: nothing can clash with, or flow into, the consumer's own packages.
        var nuspec = XDocument.Load(zip.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal)).Open());
        var ns = nuspec.Root!.Name.Namespace;
        Assert.Equal("true", nuspec.Descendants(ns + "developmentDependency").Single().Value);
        Assert.Empty(nuspec.Descendants(ns + "dependency"));
        Assert.Equal("README.md", nuspec.Descendants(ns + "readme").Single().Value);

        // The engine rolls forward to whatever runtime the building SDK has (8 or later).
        using var config = JsonDocument.Parse(zip.GetEntry("tools/net8.0/any/compress.runtimeconfig.json")!.Open());
        Assert.Equal("Major", config.RootElement.GetProperty("runtimeOptions").GetProperty("rollForward").GetString());
        Assert.StartsWith("net8.0", config.RootElement.GetProperty("runtimeOptions").GetProperty("tfm").GetString(), StringComparison.Ordinal);

        // The package list: exact versions, libtorch per runtime identifier, sizes where the packing cache had them.
        var list = XDocument.Load(zip.GetEntry("build/CompressEnginePackages.targets")!.Open());
        var packages = list.Descendants("_CompressEnginePackage").ToDictionary(p => (string)p.Attribute("Include")!);
        Assert.Equal("0.107.0", (string)packages["TorchSharp"].Attribute("Version")!);
        Assert.Equal("1.31.0", (string)packages["Microsoft.ML.OnnxRuntime"].Attribute("Version")!);
        Assert.True(long.Parse((string)packages["libtorch-cpu-linux-x64"].Attribute("Bytes")!, System.Globalization.CultureInfo.InvariantCulture) > 1_000_000);
        Assert.All(new[] { "linux-x64", "win-x64", "win-arm64", "osx-arm64" },
            rid => Assert.Equal(rid, (string)packages["libtorch-cpu-" + rid].Attribute("Rid")!));
        Assert.DoesNotContain("MathNet.Numerics", packages.Keys);

        // The packaged deps.json is still JSON, without TorchSharp's own native library (the native folder has it).
        using var deps = JsonDocument.Parse(zip.GetEntry("tools/net8.0/any/compress.deps.json")!.Open());
        var text = deps.RootElement.GetRawText();
        Assert.DoesNotContain("LibTorchSharp", text, StringComparison.Ordinal);
        Assert.Contains("runtimes/linux-x64/native/libtorch_cpu.so", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_Net8Net10AndNetStandardConsumerPinningOnnxRuntime130_RestoresCleanlyBuildsEachAndShowsTheResult()
    {
        Assert.True(_feed.PackExitCode == 0, _feed.PackOutput);
        var app = Path.Combine(_temp.Path, "app");
        Directory.CreateDirectory(app);
        var (exit, output) = DotnetCli.Run(app, Engine(_feed), "train", "--model", "resnet18-cifar", "-w", "0.0625",
            "--synthetic-train", "320", "--synthetic-test", "160", "--epochs", "1", "--batch-size", "32", "--output", "w.safetensors");
        Assert.True(exit == 0, output);
        WriteNuGetConfig(app);
        // The app pins an older ONNX Runtime than the engine's 1.31.0: no NU1605 downgrade, since the package adds nothing.
        _temp.File("app/app.csproj", $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <TargetFrameworks>net8.0;net10.0;netstandard2.0</TargetFrameworks>
                <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="Microsoft.ML.OnnxRuntime" Version="1.30.0" />
                <PackageReference Include="Compress" Version="{_feed.Version}" PrivateAssets="all" />
                <CompressModel Include="w.safetensors" Architecture="resnet18-cifar" WidthMultiplier="0.0625" Data="synthetic" PruneRate="knee" FineTuneEpochs="0" />
              </ItemGroup>
            </Project>
            """);
        _temp.File("app/C.cs", "namespace App { public static class C { } }");

        (exit, output) = DotnetCli.Run(app, "restore", "-nologo");
        Assert.True(exit == 0, output);
        Assert.DoesNotContain("NU1605", output, StringComparison.Ordinal);
        (exit, output) = DotnetCli.Run(app, "list", "package", "--include-transitive");
        Assert.True(exit == 0, output);
        Assert.All(new[] { "TorchSharp", "libtorch", "ScottPlot", "OnnxSharp", "System.CommandLine", "Google.Protobuf" },
            id => Assert.DoesNotContain(id, output, StringComparison.OrdinalIgnoreCase));
        Assert.Contains("Microsoft.ML.OnnxRuntime      1.30.0", output.Replace("\t", " ", StringComparison.Ordinal), StringComparison.Ordinal);

        // The console logger (CI): the result line of every framework's model.
        (exit, output) = Build(app, "-tl:off");
        Assert.True(exit == 0, output);
        foreach (var tfm in new[] { "net8.0", "net10.0", "netstandard2.0" })
        {
            var bin = Path.Combine(app, "bin", "Debug", tfm);
            Assert.True(new FileInfo(Path.Combine(bin, "w.onnx")).Length > 1000, tfm + "\n" + output);
            using var report = JsonDocument.Parse(File.ReadAllText(Path.Combine(bin, "w.report.json")));
            Assert.NotEmpty(report.RootElement.EnumerateObject());
            Assert.Contains($"wrote {Path.Combine(bin, "w.onnx")}", output, StringComparison.Ordinal);
            // The app's own ONNX Runtime natives are there; nothing of the engine's libtorch or TorchSharp is.
            Assert.Empty(Directory.GetFiles(bin, "*orch*", SearchOption.AllDirectories));
            Assert.False(File.Exists(Path.Combine(bin, "TorchSharp.dll")), tfm);
        }
        Assert.Contains("w: rate ", output, StringComparison.Ordinal);

        // Up to date: no engine run, for any framework.
        (exit, output) = Build(app, "-v:n", "-tl:off");
        Assert.True(exit == 0, output);
        Assert.Contains("Skipping target \"_CompressModelsCore\" because all output files are up-to-date", output, StringComparison.Ordinal);
        Assert.DoesNotContain("compressing (", output, StringComparison.Ordinal);

        // The Terminal Logger, in a pseudo-terminal as a person's `dotnet build` runs: the result shows there too.
        // (Touched to now, not into the future: a future time stamp would keep every later build out of date.)
        File.SetLastWriteTimeUtc(Path.Combine(app, "w.safetensors"), DateTime.UtcNow);
        (exit, output) = Terminal(app, "dotnet build -nologo -nodeReuse:false -p:UseSharedCompilation=false -tl:on -f net8.0");
        Assert.True(exit == 0, output);
        Assert.Contains("w: rate ", output, StringComparison.Ordinal);
        Assert.Contains("ONNX accuracy", output, StringComparison.Ordinal);

        // Publish carries the artifact, not its reports (build records with the project's layout), and the build inside
        // publish is up to date, so no engine run. The readable reports are beside the JSON in the build output.
        var publish = Path.Combine(_temp.Path, "publish");
        (exit, output) = DotnetCli.Run(app, "publish", "-nologo", "-nodeReuse:false", "-p:UseSharedCompilation=false", "-f", "net8.0", "-o", publish);
        Assert.True(exit == 0, output);
        Assert.Equal(File.ReadAllBytes(Path.Combine(app, "bin", "Debug", "net8.0", "w.onnx")), File.ReadAllBytes(Path.Combine(publish, "w.onnx")));
        Assert.False(File.Exists(Path.Combine(publish, "w.report.json")), output);
        Assert.Empty(Directory.GetFiles(publish, "*.report.*"));
        foreach (var view in new[] { "w.report.html", "w.report.md" })
            Assert.True(File.Exists(Path.Combine(app, "bin", "Debug", "net8.0", view)), view);
        Assert.Empty(Directory.GetFiles(publish, "*orch*", SearchOption.AllDirectories));

        File.SetLastWriteTimeUtc(Path.Combine(app, "w.safetensors"), DateTime.UtcNow.AddMinutes(2));
        (exit, output) = Build(app, "-f", "net8.0", "-p:CompressMinAccuracy=99.9");
        Assert.Equal(1, exit);
        Assert.Contains("error CMP0623", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_SpecWithDataFolder_ReleaseReusesTheDebugBaselineAndOnlyAChangedDataFileReruns()
    {
        Assert.True(_feed.PackExitCode == 0, _feed.PackOutput);
        var app = Path.Combine(_temp.Path, "app");
        Directory.CreateDirectory(app);
        var (exit, output) = DotnetCli.Run(app, Engine(_feed), "data", "synthetic", "--output", "data", "--train", "300", "--test", "100");
        Assert.True(exit == 0, output);
        WriteNuGetConfig(app);
        // No weights: the engine trains a baseline and caches it, content-addressed, in obj/compress/cache/.
        _temp.File("app/model.json", """
            { "name": "spec-model", "model": { "architecture": "resnet18-cifar", "widthMultiplier": 0.0625 },
              "data": "data", "baselineEpochs": 1, "pruneRate": "knee", "fineTuneEpochs": 0 }
            """);
        _temp.File("app/app.csproj", $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup><TargetFramework>net8.0</TargetFramework></PropertyGroup>
              <ItemGroup>
                <PackageReference Include="Compress" Version="{_feed.Version}" PrivateAssets="all" />
                <CompressModel Include="model.json" />
              </ItemGroup>
            </Project>
            """);
        _temp.File("app/C.cs", "namespace App { public static class C { } }");
        _temp.File("app/unrelated.txt", "x");

        (exit, output) = Build(app, "-v:n");
        Assert.True(exit == 0, output);
        Assert.Contains("baseline: training resnet18-cifar", output, StringComparison.Ordinal);
        var cache = Path.Combine(app, "obj", "compress", "cache");
        Assert.Single(Directory.GetFiles(cache, "*.safetensors"));
        var inputs = File.ReadAllLines(Path.Combine(app, "obj", "Debug", "net8.0", "compress", "model.inputs"));
        Assert.Contains(Path.Combine(app, "model.json"), inputs);
        Assert.Contains(Path.Combine(app, "data", "test_batch.bin"), inputs);

        // Another configuration: same baseline, no training.
        (exit, output) = Build(app, "-v:n", "-c", "Release");
        Assert.True(exit == 0, output);
        Assert.Contains("baseline: reusing cached", output, StringComparison.Ordinal);
        Assert.DoesNotContain("baseline: training", output, StringComparison.Ordinal);
        using (var report = JsonDocument.Parse(File.ReadAllText(Path.Combine(app, "bin", "Release", "net8.0", "model.report.json"))))
        {
            Assert.True(report.RootElement.GetProperty("baselineCached").GetBoolean());
        }

        // An unrelated file changes: nothing reruns. A data file the spec names changes: the model reruns.
        File.SetLastWriteTimeUtc(Path.Combine(app, "unrelated.txt"), DateTime.UtcNow);
        (exit, output) = Build(app, "-v:n");
        Assert.True(exit == 0, output);
        Assert.DoesNotContain("compressing (", output, StringComparison.Ordinal);
        File.SetLastWriteTimeUtc(Path.Combine(app, "data", "test_batch.bin"), DateTime.UtcNow);
        (exit, output) = Build(app, "-v:n");
        Assert.True(exit == 0, output);
        Assert.Contains("model: compressing (", output, StringComparison.Ordinal);
        // A file added to the data folder counts as well (the engine lists the folder, "<data>/").
        Assert.Contains(Path.Combine(app, "data") + "/", File.ReadAllLines(Path.Combine(app, "obj", "Debug", "net8.0", "compress", "model.inputs")));
        _temp.File("app/data/readme.txt", "added");
        (exit, output) = Build(app, "-v:n");
        Assert.True(exit == 0, output);
        Assert.Contains("model: compressing (", output, StringComparison.Ordinal);

        // dotnet clean leaves the cache (changed data made a second baseline); the documented target empties it.
        var baselines = Directory.GetFiles(cache, "*.safetensors").Length;
        Assert.Equal(2, baselines);
        (exit, output) = DotnetCli.Run(app, "clean", "-nologo");
        Assert.True(exit == 0, output);
        Assert.Equal(baselines, Directory.GetFiles(cache, "*.safetensors").Length);
        (exit, output) = Build(app, "-t:CompressClearCache");
        Assert.True(exit == 0, output);
        Assert.False(Directory.Exists(cache));
    }

    private void WriteNuGetConfig(string app) =>
        // No <clear/>: the machine's own sources stay, so the engine's packages restore as usual.
        File.WriteAllText(Path.Combine(app, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <add key="compress-test-feed" value="{_feed.FeedDirectory}" />
              </packageSources>
            </configuration>
            """);

    private static (int ExitCode, string Output) Build(string app, params string[] extra) =>
        DotnetCli.Run(app, ["build", "-nologo", "-nodeReuse:false", "-p:UseSharedCompilation=false", .. extra]);

    /// <summary>Runs a command in a pseudo-terminal (util-linux `script`), as an interactive terminal would.</summary>
    private static (int ExitCode, string Output) Terminal(string directory, string command)
    {
        var (exit, output) = DotnetCli.RunProgram("script", directory, "-qec", command, "/dev/null");
        // Drop the terminal control sequences the Terminal Logger draws with.
        return (exit, System.Text.RegularExpressions.Regex.Replace(output, @"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07\x1b]*(\x07|\x1b\\)", string.Empty));
    }
}

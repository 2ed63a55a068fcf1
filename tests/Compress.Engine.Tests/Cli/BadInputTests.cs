using System.Diagnostics;
using Compress.Cli;
using Compress.Engine.Tests.Data;

namespace Compress.Engine.Tests.Cli;

/// <summary>
/// Bad inputs and signals at the command line: each gives one coded line (no stack trace), the documented exit code, and
/// leaves no file behind.
/// </summary>
public sealed class BadInputTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData("train --model resnet18-cifar --data synthetic --output OUT/x.safetensors --threads -1", "Thread count -1 is negative")]
    [InlineData("train --model resnet18-cifar --data synthetic --output OUT/x.safetensors --device tpu", "Unknown device 'tpu'")]
    [InlineData("bench --onnx OUT/missing.onnx --batch 0", "Batch sizes must be positive")]
    [InlineData("run --prune-rate auto", "--prune-rate and --max-trials apply to run --spec only")]
    [InlineData("train --model resnet18-cifar --data synthetic --output OUT/x.safetensors --threads 100000", "Thread count 100000 is more than 1024")]
    [InlineData("bench --onnx OUT/missing.onnx --threads 5000", "--threads must be 0 (ONNX Runtime's choice) or 1 to 1024")]
    public void InvalidOptionValue_FoundByTheCommand_IsAUsageErrorWithExitCode2(string commandLine, string expected)
    {
        string[] args = commandLine.Replace("OUT", _dir.Path, StringComparison.Ordinal).Split(' ');

        var (code, _, err) = CliRunner.Run(args);

        Assert.Equal(CliApp.UsageExitCode, code);
        Assert.Contains("error CMP0001: " + expected, err, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", err, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(_dir.Path));
    }

    [Theory]
    [InlineData("spec value", "{ \"name\": \"a\u00ffb\" }", "run --spec FILE", "error CMP0620: The spec is not valid UTF-8: byte 12 (0xFF)")]
    [InlineData("spec key", "{ \"na\u00ffme\": \"x\" }", "run --spec FILE", "error CMP0620: The spec is not valid UTF-8: byte 5 (0xFF)")]
    [InlineData("report", "{ \"name\": \"caf\u00ff\", \"accuracy\": {}, \"gate\": {} }", "report FILE", "error CMP0625: The report file is not valid UTF-8: byte 14 (0xFF)")]
    public void InvalidUtf8InAJsonInput_IsCodedAtItsPosition_NotAStackTrace(string what, string text, string commandLine, string expected)
    {
        byte[] utf8 = System.Text.Encoding.UTF8.GetBytes(text);
        int at = Array.IndexOf(utf8, (byte)0xC3);
        string file = _dir.Combine("input.json");
        File.WriteAllBytes(file, [.. utf8[..at], 0xFF, .. utf8[(at + 2)..]]);
        string[] args = commandLine.Split(' ').Select(a => a == "FILE" ? file : a).ToArray();

        var (code, _, err) = CliRunner.Run(args);

        Assert.True(code == CliApp.ErrorExitCode, what + ": " + err);
        Assert.Contains(expected, err, StringComparison.Ordinal);
        Assert.Contains(file + "(1,", err, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", err, StringComparison.Ordinal);
        Assert.Single(Directory.GetFiles(_dir.Path));
    }

    [Theory]
    [InlineData("test", "error CMP0206: The test split of ")]
    // The image-folder reader finds an empty train folder first.
    [InlineData("train", "error CMP0201: ")]
    public void EmptySplit_IsACodedErrorNamingIt_AndTrainWritesNothing(string empty, string expected)
    {
        string data = Spec.ColourImageFolder.Write(_dir.Combine("colours"), trainPerClass: 4, testPerClass: 2);
        foreach (string file in Directory.GetFiles(Path.Combine(data, empty), "*.png", SearchOption.AllDirectories)) File.Delete(file);
        string output = _dir.Combine("w.safetensors");

        var (code, _, err) = CliRunner.Run("train", "--model", "resnet18-cifar", "--width-multiplier", "0.0625", "--classes", "4",
            "--data", data, "--epochs", "1", "--output", output);

        Assert.Equal(CliApp.ErrorExitCode, code);
        Assert.Contains(expected, err, StringComparison.Ordinal);
        Assert.Contains(data, err, StringComparison.Ordinal);
        Assert.False(File.Exists(output));
    }

    [Theory]
    [InlineData("a\nfake.json(1,1): error CMP0101: forged")]
    [InlineData("a\rfake.json(1,1): error CMP0101: forged")]
    [InlineData("a\u2028fake.json(1,1): error CMP0101: forged")]
    [InlineData("con:sole")]
    [InlineData("../outside")]
    public void SpecNameThatIsNotAPlainFileName_IsCmp0622OnOneLine_AndCannotForgeADiagnostic(string name)
    {
        string spec = _dir.Combine("s.json");
        File.WriteAllText(spec, "{ \"name\": " + System.Text.Json.JsonSerializer.Serialize(name) + " }");

        var (code, _, err) = CliRunner.Run("run", "--spec", spec);

        Assert.Equal(CliApp.ErrorExitCode, code);
        var lines = err.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var line = Assert.Single(lines);
        Assert.StartsWith(spec + "(1,11): error CMP0622: 'name' must be a non-empty file name", line, StringComparison.Ordinal);
        Assert.DoesNotContain('\r', line);
        Assert.DoesNotContain('\u2028', line);
        Assert.Single(Directory.GetFiles(_dir.Path));

        var (usage, _, usageErr) = CliRunner.Run("run", "--spec", spec, "--artifact-name", name);
        Assert.Equal(CliApp.UsageExitCode, usage);
        Assert.Single(usageErr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("error CMP0001: --artifact-name must be a file name", usageErr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("1e308", "Width multiplier 1E+308 is not a positive finite number up to 64")]
    [InlineData("1e6", "Width multiplier 1000000 is not a positive finite number up to 64")]
    [InlineData("60", "resnet18-cifar at width 60 with 10 classes would have 40,168,577,310 parameters (160.7 GB)")]
    public void AbsurdModelSize_IsCmp0102BeforeAnyAllocation(string width, string expected)
    {
        var (code, _, err) = CliRunner.Run("train", "--model", "resnet18-cifar", "--width-multiplier", width, "--data", "synthetic",
            "--output", _dir.Combine("w.safetensors"));

        Assert.Equal(CliApp.ErrorExitCode, code);
        Assert.Contains("error CMP0102: " + expected, err, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(_dir.Path));
    }

    [Theory]
    [InlineData("\"intermediateDirectory\": \"afile\"", "error CMP0004: Could not create the intermediateDirectory folder")]
    [InlineData("\"cacheDirectory\": \"afile/below\"", "error CMP0004: Could not create the cacheDirectory folder")]
    [InlineData("\"outputDirectory\": \"o\\u0000x\"", "error CMP0622: 'outputDirectory' \"o\\u0000x\" holds a control character")]
    [InlineData("\"data\": \"dangling\"", "error CMP0201: ")]
    public void SpecPathsTheEngineCannotUse_AreCodedAtTheirKey_BeforeAnyTraining(string entry, string expected)
    {
        File.WriteAllText(_dir.Combine("afile"), "a file where a folder should be");
        Directory.CreateDirectory(_dir.Combine("dangling"));
        if (!OperatingSystem.IsWindows()) File.CreateSymbolicLink(_dir.Combine("dangling", "gone.bin"), _dir.Combine("nowhere"));
        string spec = _dir.Combine("s.json");
        File.WriteAllText(spec, "{ \"name\": \"n\", \"model\": { \"architecture\": \"resnet18-cifar\", \"widthMultiplier\": 0.0625 },\n  " + entry + " }");

        var (code, _, err) = CliRunner.Run("run", "--spec", spec);

        Assert.Equal(CliApp.ErrorExitCode, code);
        Assert.Contains(expected, err, StringComparison.Ordinal);
        Assert.Contains(spec + "(2,", err, StringComparison.Ordinal);
        Assert.DoesNotContain("CMP0007", err, StringComparison.Ordinal);
        Assert.DoesNotContain("train epoch", err, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("outputDirectory")]
    [InlineData("intermediateDirectory")]
    [InlineData("cacheDirectory")]
    public void SpecFolderOutsideTheProject_IsCmp0626AtItsKey_UnlessAllowedOrReplacedByTheCaller(string key)
    {
        string outside = Path.Combine(Path.GetTempPath(), "compress-outside-" + Guid.NewGuid().ToString("N"));
        string project = _dir.Combine("project");
        Directory.CreateDirectory(project);
        string spec = Path.Combine(project, "s.json");
        File.WriteAllText(spec, "{ \"name\": \"n\",\n  \"" + key + "\": " + System.Text.Json.JsonSerializer.Serialize(outside) + " }");

        var (code, _, err) = CliRunner.Run("run", "--spec", spec);

        Assert.Equal(CliApp.ErrorExitCode, code);
        Assert.Contains(spec + "(2,", err, StringComparison.Ordinal);
        Assert.Contains($"error CMP0626: '{key}' resolves to '{outside}", err, StringComparison.Ordinal);
        Assert.False(Directory.Exists(outside));

        // Allowed by the spec, or the folder given by the caller instead: no CMP0626.
        var parsed = Engine.Spec.BuildSpecParser.Load(spec, new Engine.Diagnostics.CollectingSink());
        Engine.Spec.SpecJob.CheckConfinement(parsed with { AllowOutputOutsideProject = true });
        if (key != "cacheDirectory")
            Engine.Spec.SpecJob.CheckConfinement(parsed.WithOverrides(null, key == "outputDirectory" ? outside : null, key == "intermediateDirectory" ? outside : null));
        // Inside the project given by the build step (a generated spec in obj/ naming bin/): allowed.
        Engine.Spec.SpecJob.CheckConfinement(parsed with { ProjectDirectory = Path.GetDirectoryName(outside) });
    }

    [Fact]
    public void Sigterm_DuringTraining_StopsWithCmp0006AndExitCode143_AndWritesNothing()
    {
        string apphost = Path.Combine(AppContext.BaseDirectory, OperatingSystem.IsWindows() ? "compress.exe" : "compress");
        if (OperatingSystem.IsWindows()) return; // no SIGTERM to send there: Ctrl+C is tested in-process
        string output = _dir.Combine("w.safetensors");
        var start = new ProcessStartInfo(apphost) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (string a in new[] { "train", "--model", "resnet18-cifar", "--width-multiplier", "0.25", "--data", "synthetic",
                     "--synthetic-train", "4000", "--synthetic-test", "100", "--epochs", "5", "--output", output })
            start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var err = new System.Text.StringBuilder();
        var training = new ManualResetEventSlim();
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (err) err.AppendLine(e.Data);
            if (e.Data.StartsWith("train epoch", StringComparison.Ordinal)) training.Set();
        };
        process.BeginErrorReadLine();
        process.StandardOutput.ReadToEndAsync();
        Assert.True(training.Wait(TimeSpan.FromMinutes(3)), "training did not start: " + err);

        using (var kill = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])) kill.WaitForExit();
        Assert.True(process.WaitForExit(60_000), "the engine did not stop within 60 s of SIGTERM");
        process.WaitForExit();

        Assert.Equal(CliApp.TerminatedExitCode, process.ExitCode);
        string text;
        lock (err) text = err.ToString();
        Assert.Contains("error CMP0006: Cancelled", text, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", text, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(_dir.Path));
    }
}

using System.Text.Json;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace Compress.Tasks.Tests;

public sealed class CompressModelTests : IDisposable
{
    private readonly TempFolder _temp = new();
    private readonly FakeBuildEngine _engine = new();

    public void Dispose() => _temp.Dispose();

    private CompressModel Task(params ITaskItem[] models) => new()
    {
        BuildEngine = _engine,
        Models = models,
        EnginePath = _temp.File("fake-compress.dll", "exit 0\n"),
        DotnetHost = "/bin/sh",
        OutputDirectory = Path.Combine(_temp.Path, "out"),
        IntermediateDirectory = Path.Combine(_temp.Path, "obj", "compress"),
    };

    private TaskItem Weights(string name = "model.safetensors", params (string Key, string Value)[] metadata)
    {
        var item = new TaskItem(_temp.File(name, "weights"));
        item.SetMetadata("Architecture", "resnet18-cifar");
        foreach (var (key, value) in metadata)
        {
            item.SetMetadata(key, value);
        }
        return item;
    }

    /// <summary>A fake engine run by /bin/sh: copies its response file beside it, prints <paramref name="body"/>.</summary>
    private static void FakeEngine(CompressModel task, string body) =>
        File.WriteAllText(task.EnginePath, "cp \"${1#@}\" \"$(dirname \"$0\")/captured.rsp\"\n" + body + "\n");

    [Fact]
    public void Execute_TwoBadValues_ReportsBothWithCodes()
    {
        var task = Task(Weights(metadata: [("PruneRate", "1.5"), ("FineTuneEpochs", "-1")]));
        Assert.False(task.Execute());
        Assert.Equal(2, _engine.Errors.Count);
        Assert.All(_engine.Errors, e => Assert.Equal("CMP0602", e.Code));
        Assert.Contains(_engine.Errors, e => e.Message!.Contains("PruneRate is '1.5'", StringComparison.Ordinal));
        Assert.Contains(_engine.Errors, e => e.Message!.Contains("FineTuneEpochs is '-1'", StringComparison.Ordinal));
        Assert.All(_engine.Errors, e => Assert.Equal("/project/app.csproj", e.File));
    }

    [Fact]
    public void Execute_EveryKindOfProblem_ReportsEachOnce()
    {
        var missing = new TaskItem(Path.Combine(_temp.Path, "absent.pt"));
        missing.SetMetadata("Architecture", "lenet5");
        var noArchitecture = new TaskItem(_temp.File("b.pth"));
        var text = new TaskItem(_temp.File("c.txt"));
        var task = Task(
            Weights("a.safetensors", ("MinAccuracy", "101"), ("Data", Path.Combine(_temp.Path, "no-data")), ("Device", "tpu")),
            missing, noArchitecture, text, Weights("d/a.safetensors"));
        task.Device = "gpu";
        Assert.False(task.Execute());
        var codes = _engine.Errors.Select(e => e.Code).Order(StringComparer.Ordinal).ToArray();
        // gpu, tpu, 101, b.pth without Architecture; missing data and absent.pt; c.txt; two items named "a".
        Assert.Equal(["CMP0602", "CMP0602", "CMP0602", "CMP0602", "CMP0603", "CMP0603", "CMP0606", "CMP0607"], codes);
    }

    [Fact]
    public void Execute_UnknownMetadata_WarnsWithSuggestion()
    {
        var task = Task(Weights(metadata: ("PrunRate", "0.5")));
        FakeEngine(task, "exit 0");
        Assert.True(task.Execute());
        var warning = Assert.Single(_engine.Warnings);
        Assert.Equal("CMP0601", warning.Code);
        Assert.Contains("'PrunRate'", warning.Message, StringComparison.Ordinal);
        Assert.Contains("Did you mean 'PruneRate'?", warning.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Suggest_FarName_GivesNothing() => Assert.Null(ModelValidator.Suggest("Colour"));

    [Fact]
    public void Execute_WeightsItem_WritesSpecWithAbsolutePathsAndResponseFile()
    {
        var data = Directory.CreateDirectory(Path.Combine(_temp.Path, "data")).FullName;
        var task = Task(Weights("net.safetensors",
            ("WidthMultiplier", "0.25"), ("Classes", "10"), ("Data", data), ("PruneRate", "Safe"),
            ("FineTuneEpochs", "2"), ("Threads", "2"), ("Name", "small")));
        task.Device = "cpu";
        task.Seed = "7";
        task.MinAccuracy = "80.5";
        task.MaxAccuracyDrop = "1";
        FakeEngine(task, "exit 0");

        Assert.True(task.Execute());
        Assert.Empty(_engine.Errors);

        var specPath = Path.Combine(task.IntermediateDirectory, "small.spec.json");
        Assert.Equal(specPath, Assert.Single(task.SpecFiles).ItemSpec);
        using var spec = JsonDocument.Parse(File.ReadAllText(specPath));
        var root = spec.RootElement;
        Assert.Equal("small", root.GetProperty("name").GetString());
        Assert.Equal("resnet18-cifar", root.GetProperty("model").GetProperty("architecture").GetString());
        Assert.Equal(0.25, root.GetProperty("model").GetProperty("widthMultiplier").GetDouble());
        Assert.Equal(10, root.GetProperty("model").GetProperty("classes").GetInt32());
        Assert.Equal(Path.Combine(_temp.Path, "net.safetensors"), root.GetProperty("weights").GetString());
        Assert.Equal(data, root.GetProperty("data").GetString());
        Assert.Equal("safe", root.GetProperty("pruneRate").GetString());
        Assert.Equal(2, root.GetProperty("fineTuneEpochs").GetInt32());
        Assert.Equal(80.5, root.GetProperty("minAccuracy").GetDouble());
        Assert.Equal(1, root.GetProperty("maxAccuracyDrop").GetDouble());
        Assert.Equal("cpu", root.GetProperty("device").GetString());
        Assert.Equal(7, root.GetProperty("seed").GetInt32());
        Assert.Equal(2, root.GetProperty("threads").GetInt32());
        Assert.Equal(Path.Combine(_temp.Path, "out"), root.GetProperty("outputDirectory").GetString());
        Assert.Equal(Path.Combine(_temp.Path, "obj", "compress"), root.GetProperty("intermediateDirectory").GetString());
        Assert.All(new[] { "weights", "data", "outputDirectory", "intermediateDirectory" },
            key => Assert.True(Path.IsPathRooted(root.GetProperty(key).GetString())));

        var responseFile = File.ReadAllLines(Path.Combine(_temp.Path, "captured.rsp"));
        // The dependency file goes next to the spec; the engine repeats its last line after half the heartbeat period.
        Assert.Equal(["run", "--spec " + specPath, "--dependency-file " + Path.Combine(_temp.Path, "obj", "compress", "small.inputs"),
            "--heartbeat 10"], responseFile);
        var onnx = Assert.Single(task.OnnxFiles);
        Assert.Equal(Path.Combine(_temp.Path, "out", "small.onnx"), onnx.ItemSpec);
        Assert.Equal(Path.Combine(_temp.Path, "out", "small.report.json"), onnx.GetMetadata("Report"));
    }

    [Fact]
    public void Execute_OnnxItem_SpecNamesTheFileAsTheModelAndHasNoWeights()
    {
        var item = new TaskItem(_temp.File("app.onnx"));
        item.SetMetadata("PruneRate", "knee");
        var task = Task(item);
        FakeEngine(task, "exit 0");
        Assert.True(task.Execute());
        Assert.Empty(_engine.Errors);
        Assert.Empty(_engine.Warnings);
        using var spec = JsonDocument.Parse(File.ReadAllText(Path.Combine(task.IntermediateDirectory, "app.spec.json")));
        Assert.Equal(Path.Combine(_temp.Path, "app.onnx"), spec.RootElement.GetProperty("model").GetString());
        Assert.False(spec.RootElement.TryGetProperty("weights", out _));
        Assert.Equal("knee", spec.RootElement.GetProperty("pruneRate").GetString());
        Assert.Equal(Path.Combine(_temp.Path, "out", "app.onnx"), Assert.Single(task.OnnxFiles).ItemSpec);
    }

    [Fact]
    public void Execute_PreprocessingMetadata_ReachesTheSpecAndBadBooleanIsCmp0602()
    {
        var item = new TaskItem(_temp.File("app.onnx"));
        item.SetMetadata("Normalize", "imagenet");
        item.SetMetadata("EmbedPreprocessing", "true");
        var task = Task(item);
        FakeEngine(task, "exit 0");
        Assert.True(task.Execute());
        using var spec = JsonDocument.Parse(File.ReadAllText(Path.Combine(task.IntermediateDirectory, "app.spec.json")));
        Assert.Equal("imagenet", spec.RootElement.GetProperty("normalize").GetString());
        Assert.True(spec.RootElement.GetProperty("embedPreprocessing").GetBoolean());

        var bad = new TaskItem(_temp.File("other.onnx"));
        bad.SetMetadata("EmbedPreprocessing", "yes");
        var failing = Task(bad);
        Assert.False(failing.Execute());
        Assert.Contains(_engine.Errors, e => e.Code == "CMP0602" && e.Message!.Contains("EmbedPreprocessing is 'yes'", StringComparison.Ordinal));
    }

    [Fact]
    public void Execute_UnstructuredMetadata_ReachesTheSpecAndUnknownNamesAreCmp0602()
    {
        var item = new TaskItem(_temp.File("app.onnx"));
        item.SetMetadata("Method", "unstructured");
        item.SetMetadata("Criterion", "gradient");
        item.SetMetadata("Scope", "layer");
        item.SetMetadata("IncludeClassifier", "true");
        item.SetMetadata("GradientImages", "64");
        item.SetMetadata("Schedule", "iterative");
        item.SetMetadata("Steps", "4");
        item.SetMetadata("ScheduleShape", "cubic");
        item.SetMetadata("EpochsBetween", "0");
        var task = Task(item);
        FakeEngine(task, "exit 0");
        Assert.True(task.Execute());
        using var spec = JsonDocument.Parse(File.ReadAllText(Path.Combine(task.IntermediateDirectory, "app.spec.json")));
        var root = spec.RootElement;
        Assert.Equal(("unstructured", "gradient", "layer"), (root.GetProperty("method").GetString(), root.GetProperty("criterion").GetString(), root.GetProperty("scope").GetString()));
        Assert.True(root.GetProperty("includeClassifier").GetBoolean());
        Assert.Equal((64, 4, 0), (root.GetProperty("gradientImages").GetInt32(), root.GetProperty("steps").GetInt32(), root.GetProperty("epochsBetween").GetInt32()));
        Assert.Equal(("iterative", "cubic"), (root.GetProperty("schedule").GetString(), root.GetProperty("scheduleShape").GetString()));

        var bad = new TaskItem(_temp.File("other.onnx"));
        bad.SetMetadata("Criterion", "taylor");
        var failing = Task(bad);
        Assert.False(failing.Execute());
        Assert.Contains(_engine.Errors, e => e.Code == "CMP0602" && e.Message!.Contains("Criterion is 'taylor'; it must be magnitude, gradient, random", StringComparison.Ordinal));
    }

    [Fact]
    public void DynamicMetadata_IsWrittenToTheSpec_AndBadValuesAreCmp0602()
    {
        var item = new TaskItem(_temp.File("app.onnx"));
        item.SetMetadata("Method", "dynamic");
        item.SetMetadata("DynamicPrune", "filter");
        item.SetMetadata("TargetSparsity", "0.6");
        item.SetMetadata("MaskInterval", "8");
        item.SetMetadata("FilterRanking", "raw");
        item.SetMetadata("RampEnd", "0.5");
        item.SetMetadata("Decorrelation", "0.7");
        item.SetMetadata("DecorrelationVariant", "literal");
        var task = Task(item);
        FakeEngine(task, "exit 0");
        Assert.True(task.Execute());
        using var spec = JsonDocument.Parse(File.ReadAllText(Path.Combine(task.IntermediateDirectory, "app.spec.json")));
        var root = spec.RootElement;
        Assert.Equal(("dynamic", "filter", "literal", "raw"), (root.GetProperty("method").GetString(), root.GetProperty("dynamicPrune").GetString(),
            root.GetProperty("decorrelationVariant").GetString(), root.GetProperty("filterRanking").GetString()));
        Assert.Equal((0.6, 8, 0.5, 0.7), (root.GetProperty("targetSparsity").GetDouble(), root.GetProperty("maskInterval").GetInt32(),
            root.GetProperty("rampEnd").GetDouble(), root.GetProperty("decorrelation").GetDouble()));

        var bad = new TaskItem(_temp.File("other.onnx"));
        bad.SetMetadata("DynamicPrune", "channel");
        bad.SetMetadata("TargetSparsity", "1.2");
        var failing = Task(bad);
        Assert.False(failing.Execute());
        Assert.Contains(_engine.Errors, e => e.Code == "CMP0602" && e.Message!.Contains("DynamicPrune is 'channel'; it must be unstructured, filter", StringComparison.Ordinal));
        Assert.Contains(_engine.Errors, e => e.Code == "CMP0602" && e.Message!.Contains("TargetSparsity", StringComparison.Ordinal));
    }

    [Fact]
    public void MemoryFormatAndPrecisionMetadata_AreWrittenToTheSpec_AndBadValuesAreCmp0602()
    {
        var item = new TaskItem(_temp.File("app.onnx"));
        item.SetMetadata("MemoryFormat", "nchw");
        item.SetMetadata("Precision", "bfloat16");
        var task = Task(item);
        FakeEngine(task, "exit 0");
        Assert.True(task.Execute());
        using (var spec = JsonDocument.Parse(File.ReadAllText(Path.Combine(task.IntermediateDirectory, "app.spec.json"))))
        {
            Assert.Equal("nchw", spec.RootElement.GetProperty("memoryFormat").GetString());
            Assert.Equal("bfloat16", spec.RootElement.GetProperty("precision").GetString());
        }

        var bad = new TaskItem(_temp.File("other.onnx"));
        bad.SetMetadata("MemoryFormat", "nhwc");
        bad.SetMetadata("Precision", "fp16");
        var failing = Task(bad);
        Assert.False(failing.Execute());
        Assert.Contains(_engine.Errors, e => e.Code == "CMP0602" && e.Message!.Contains("Precision is 'fp16'; it must be float32, bfloat16", StringComparison.Ordinal));
        Assert.Contains(_engine.Errors, e => e.Code == "CMP0602" && e.Message!.Contains("MemoryFormat is 'nhwc'; it must be auto, nchw, channels-last", StringComparison.Ordinal));
    }

    [Fact]
    public void SearchAndGateMetadata_IsWrittenToTheSpec_AndBadValuesAreCmp0602()
    {
        var item = new TaskItem(_temp.File("app.onnx"));
        item.SetMetadata("PruneRate", "auto");
        item.SetMetadata("MaxTrials", "4");
        item.SetMetadata("MaxRelativeAccuracyDrop", "1.5");
        item.SetMetadata("MaxBytes", "2000000");
        item.SetMetadata("MinSpeedup", "1.2");
        var task = Task(item);
        FakeEngine(task, "exit 0");
        Assert.True(task.Execute());
        using var spec = JsonDocument.Parse(File.ReadAllText(Path.Combine(task.IntermediateDirectory, "app.spec.json")));
        var root = spec.RootElement;
        Assert.Equal(("auto", 4, 1.5, 2_000_000L, 1.2), (root.GetProperty("pruneRate").GetString(), root.GetProperty("maxTrials").GetInt32(),
            root.GetProperty("maxRelativeAccuracyDrop").GetDouble(), root.GetProperty("maxBytes").GetInt64(), root.GetProperty("minSpeedup").GetDouble()));

        var bad = new TaskItem(_temp.File("other.onnx"));
        bad.SetMetadata("MaxBytes", "lots");
        bad.SetMetadata("MinSpeedup", "0");
        Assert.False(Task(bad).Execute());
        Assert.Contains(_engine.Errors, e => e.Code == "CMP0602" && e.Message!.Contains("MaxBytes is 'lots'", StringComparison.Ordinal));
        Assert.Contains(_engine.Errors, e => e.Code == "CMP0602" && e.Message!.Contains("MinSpeedup is '0'", StringComparison.Ordinal));
    }

    [Fact]
    public void Execute_AzureLoggingCommandFromTheEngine_IsLoggedAsIsAtHighImportanceAndIsNoResult()
    {
        var item = new TaskItem(_temp.File("app.onnx"));
        var task = Task(item);
        task.ProjectFullPath = Path.Combine(_temp.Path, "app.csproj");
        FakeEngine(task, "echo '##vso[task.uploadsummary]/x/app.report.md' >&2; echo 'app: rate 0.3'");
        Assert.True(task.Execute());
        Assert.Contains(_engine.Messages, m => m.Message == "##vso[task.uploadsummary]/x/app.report.md" && m.Importance == MessageImportance.High);
        Assert.Equal("app: rate 0.3", Assert.Single(task.Results).GetMetadata("Summary"));
        // The reports' paths are relative to the project's folder, which the engine is told.
        Assert.Contains("--project-dir " + _temp.Path, File.ReadAllLines(Path.Combine(_temp.Path, "captured.rsp")));
    }

    [Fact]
    public void Targets_SettingsFileListsEveryMetadataTheTaskReads()
    {
        // A metadata missing from the settings line would not rerun the model when it changes.
        string targets = File.ReadAllText(Path.Combine(RepoPaths.Root, "build", "Compress.targets"));
        foreach (string name in ModelValidator.KnownMetadata.Where(n => n != "Name"))
            Assert.Contains($"{name}=%(_CompressModel.{name})", targets, StringComparison.Ordinal);
    }

    [Fact]
    public void Execute_OnnxItemWithArchitecture_WarnsThatTheFileDecides()
    {
        var item = new TaskItem(_temp.File("app.onnx"));
        item.SetMetadata("Architecture", "resnet18-cifar");
        var task = Task(item);
        FakeEngine(task, "exit 0");
        Assert.True(task.Execute());
        var warning = Assert.Single(_engine.Warnings);
        Assert.Equal("CMP0601", warning.Code);
        Assert.Contains("Architecture metadata is ignored for an ONNX model", warning.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Execute_LongRun_PromotesAProgressLineAfterTheQuietPeriodAndReturnsTheResultLine()
    {
        var task = Task(Weights("net.safetensors", ("Name", "small")));
        task.HeartbeatSeconds = "1";
        // stderr progress: two lines in quick succession (the second stays at normal importance), then one after more
        // than the heartbeat period (promoted); stdout: the result line.
        FakeEngine(task, "echo 'train [1/3] ETA 00:02' >&2; echo 'train [2/3] ETA 00:01' >&2; sleep 1.3; echo 'train [3/3] ETA 00:00' >&2; echo 'small: rate 0.5000 (knee), ONNX accuracy 90.00%'");
        Assert.True(task.Execute());

        var high = _engine.Messages.Where(m => m.Importance == MessageImportance.High).Select(m => m.Message!).ToList();
        Assert.Contains(high, m => m.StartsWith("small: compressing (", StringComparison.Ordinal));
        var beat = Assert.Single(high, m => m.Contains("train [", StringComparison.Ordinal));
        Assert.Matches(@"^small: \[00:0[1-9]\] train \[3/3\] ETA 00:00$", beat);
        Assert.Contains(_engine.Messages, m => m.Importance == MessageImportance.Normal && m.Message == "train [2/3] ETA 00:01");
        var result = Assert.Single(task.Results);
        Assert.Equal(Path.Combine(_temp.Path, "out", "small.onnx"), result.ItemSpec);
        Assert.Equal("small: rate 0.5000 (knee), ONNX accuracy 90.00%", result.GetMetadata("Summary"));
    }

    [Fact]
    public void Execute_BadHeartbeat_FailsWithCmp0602BeforeRunning()
    {
        var task = Task(Weights());
        task.HeartbeatSeconds = "often";
        FakeEngine(task, "exit 0");
        Assert.False(task.Execute());
        var error = Assert.Single(_engine.Errors);
        Assert.Equal("CMP0602", error.Code);
        Assert.Contains("CompressHeartbeatSeconds is 'often'", error.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_temp.Path, "captured.rsp")));
    }

    [Fact]
    public void Execute_NumericRate_WritesNumber()
    {
        var task = Task(Weights(metadata: ("PruneRate", "0.35")));
        FakeEngine(task, "exit 0");
        Assert.True(task.Execute());
        using var spec = JsonDocument.Parse(File.ReadAllText(task.SpecFiles[0].ItemSpec));
        Assert.Equal(JsonValueKind.Number, spec.RootElement.GetProperty("pruneRate").ValueKind);
        Assert.Equal(0.35, spec.RootElement.GetProperty("pruneRate").GetDouble());
        Assert.False(spec.RootElement.TryGetProperty("device", out _));
    }

    [Fact]
    public void Execute_SpecItem_PassesSpecThrough()
    {
        var spec = new TaskItem(_temp.File("m.json", "{}"));
        var task = Task(spec);
        FakeEngine(task, "exit 0");
        Assert.True(task.Execute());
        // The spec is passed as written, with the build's placement of its artifacts.
        Assert.Equal(["run", "--spec " + spec.ItemSpec, "--artifact-name m", "--artifact-dir " + Path.GetFullPath(task.OutputDirectory),
            "--intermediate-dir " + Path.GetFullPath(task.IntermediateDirectory),
            "--dependency-file " + Path.Combine(Path.GetFullPath(task.IntermediateDirectory), "m.inputs"), "--heartbeat 10"],
            File.ReadAllLines(Path.Combine(_temp.Path, "captured.rsp")));
        Assert.False(Directory.Exists(task.IntermediateDirectory));
    }

    [Fact]
    public void Execute_SpecItemWithMetadata_WarnsItIsIgnored()
    {
        var spec = new TaskItem(_temp.File("m.json", "{}"));
        spec.SetMetadata("PruneRate", "0.5");
        var task = Task(spec);
        FakeEngine(task, "exit 0");
        Assert.True(task.Execute());
        var warning = Assert.Single(_engine.Warnings);
        Assert.Equal("CMP0601", warning.Code);
        Assert.Contains("\"pruneRate\" in the spec", warning.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Execute_EngineReportsErrors_MapsThemAndFailsOnce()
    {
        var task = Task(Weights());
        FakeEngine(task, string.Join('\n',
            "echo 'epoch 1/1 batch 3/4'",
            "echo 'a.json(3,7): error CMP0101: Unknown architecture x.'",
            "echo 'compress: warning CMP0303: Clamped.' >&2",
            "exit 1"));

        Assert.False(task.Execute());

        var error = Assert.Single(_engine.Errors);
        Assert.Equal(("CMP0101", "a.json", 3, 7), (error.Code, error.File, error.LineNumber, error.ColumnNumber));
        Assert.Equal("Unknown architecture x.", error.Message);
        var warning = Assert.Single(_engine.Warnings);
        // No file in the engine's line: MSBuild attributes it to the project.
        Assert.Equal(("CMP0303", "/project/app.csproj", 0, "Clamped."), (warning.Code, warning.File, warning.LineNumber, warning.Message));
        Assert.Contains(_engine.Messages, m => m.Message == "epoch 1/1 batch 3/4");
    }

    [Fact]
    public void Execute_EngineErrorInGeneratedSpec_IsAttributedToTheProjectAndNamesTheItem()
    {
        var item = Weights("net.safetensors", ("Name", "net"));
        var task = Task(item);
        var spec = Path.Combine(task.IntermediateDirectory, "net.spec.json");
        FakeEngine(task, $"echo '{spec}(8,18): error CMP0623: Accuracy gate failed.'\nexit 1");

        Assert.False(task.Execute());

        var error = Assert.Single(_engine.Errors);
        Assert.Equal(("CMP0623", "/project/app.csproj", 0), (error.Code, error.File, error.LineNumber));
        Assert.Equal($"CompressModel '{item.ItemSpec}': Accuracy gate failed.", error.Message);
    }

    [Fact]
    public void Execute_EngineFailsSilently_ReportsCmp0605()
    {
        var task = Task(Weights());
        FakeEngine(task, "exit 3");
        Assert.False(task.Execute());
        var error = Assert.Single(_engine.Errors);
        Assert.Equal("CMP0605", error.Code);
        Assert.Contains("code 3", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Execute_EngineMissing_ReportsCmp0604()
    {
        var task = Task(Weights());
        task.EnginePath = Path.Combine(_temp.Path, "nowhere", "compress.dll");
        Assert.False(task.Execute());
        Assert.Equal("CMP0604", Assert.Single(_engine.Errors).Code);
    }

    [Fact]
    public void Execute_DotnetHostMissing_ReportsCmp0604()
    {
        var task = Task(Weights());
        task.DotnetHost = Path.Combine(_temp.Path, "no-dotnet");
        Assert.False(task.Execute());
        var error = Assert.Single(_engine.Errors);
        Assert.Equal("CMP0604", error.Code);
        Assert.Contains("no-dotnet", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Execute_ProbingPathsAndNativeDirectory_RunsDotnetExecWithProbingPathsAndSetsCompressNativeDir()
    {
        var task = Task(Weights());
        var captured = Path.Combine(_temp.Path, "host-args.txt");
        // A fake dotnet host: records its arguments (one per line) and the variable the engine reads.
        task.DotnetHost = _temp.File("fake-dotnet", $"#!/bin/sh\nprintf '%s\\n' \"$@\" > '{captured}'\necho \"dir=$COMPRESS_NATIVE_DIR\" >> '{captured}'\n");
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(task.DotnetHost, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        task.ProbingPaths = "/cache/a/; /cache/b/";
        task.NativeDirectory = Path.Combine(_temp.Path, "obj", "native");

        Assert.True(task.Execute(), string.Join("\n", _engine.Errors.Select(e => e.Message)));
        var lines = File.ReadAllLines(captured);
        Assert.Equal(["exec", "--additionalprobingpath", "/cache/a/", "--additionalprobingpath", "/cache/b/", task.EnginePath], lines[..6]);
        Assert.StartsWith("@", lines[6], StringComparison.Ordinal);
        Assert.Equal("dir=" + task.NativeDirectory, lines[7]);
    }

    [Fact]
    public async System.Threading.Tasks.Task Cancel_WhileEngineRuns_KillsItAndFails()
    {
        var task = Task(Weights());
        var started = Path.Combine(_temp.Path, "started");
        var marker = Path.Combine(_temp.Path, "finished");
        FakeEngine(task, $"touch '{started}'\nsleep 20\necho done > '{marker}'");
        var stopwatch = System.Diagnostics.Stopwatch.StartNew();
        var run = System.Threading.Tasks.Task.Run(task.Execute);
        Assert.True(SpinWait.SpinUntil(() => File.Exists(started), TimeSpan.FromSeconds(10)));
        task.Cancel();
        // ToolTask.Cancel kills the engine's process tree; WaitAsync throws if Execute does not return.
        Assert.False(await run.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(15));
        Assert.False(File.Exists(marker));
    }
}

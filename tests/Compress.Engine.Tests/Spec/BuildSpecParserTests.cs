using System.Text;
using System.Text.Json;
using Compress.Engine.Diagnostics;
using Compress.Engine.Spec;
using Compress.Engine.Tests.Data;

namespace Compress.Engine.Tests.Spec;

public sealed class BuildSpecParserTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private (BuildSpec? Spec, IReadOnlyList<Diagnostic> Diagnostics) Parse(string json, string file = "app.json") =>
        BuildSpecParser.Parse(_dir.Combine(file), Encoding.UTF8.GetBytes(json));

    [Fact]
    public void Parse_MinimalSpec_FillsDefaultsAndResolvesDirectoriesAgainstTheSpecFolder()
    {
        var (spec, diagnostics) = Parse("{ \"outputDirectory\": \"out\" }", "tiny.json");
        Assert.Empty(diagnostics);
        Assert.NotNull(spec);
        Assert.Equal("tiny", spec.Name);
        Assert.Equal("safe", spec.PruneRate);
        Assert.Equal(1, spec.FineTuneEpochs);
        Assert.Equal("synthetic", spec.Data);
        Assert.Equal(_dir.Combine("out"), spec.OutputDirectory);
        Assert.Equal(_dir.Combine("obj", "compress"), spec.IntermediateDirectory);
        Assert.Equal(_dir.Combine("obj", "compress", "cache"), spec.CacheDirectory);
        Assert.Null(spec.MinAccuracy);
    }

    [Fact]
    public void WithOverrides_BuildPlacement_ReplacesNameAndFoldersAndMovesADefaultedCache()
    {
        var (spec, diagnostics) = Parse("{ \"$schema\": \"../build/compress.schema.json\", \"outputDirectory\": \"out\" }", "tiny.json");
        Assert.Empty(diagnostics); // "$schema" is for editors, not an unknown key
        var placed = spec!.WithOverrides("net", _dir.Combine("bin"), _dir.Combine("obj", "x"));
        Assert.Equal(("net", _dir.Combine("bin"), _dir.Combine("obj", "x"), _dir.Combine("obj", "x", "cache")),
            (placed.Name, placed.OutputDirectory, placed.IntermediateDirectory, placed.CacheDirectory));
        Assert.Equal(spec, spec.WithOverrides(null, null, " "));

        var (own, _) = Parse("{ \"cacheDirectory\": \"mycache\" }", "own.json");
        Assert.Equal(_dir.Combine("mycache"), own!.WithOverrides(null, null, _dir.Combine("obj", "y")).CacheDirectory);
    }

    [Fact]
    public void Parse_RelativeWeightsAndData_ResolveAgainstTheSpecFolderNotTheWorkingDirectory()
    {
        Directory.CreateDirectory(_dir.Combine("sub", "images"));
        File.WriteAllBytes(_dir.Combine("sub", "w.safetensors"), [1]);
        var (spec, diagnostics) = Parse("{ \"weights\": \"w.safetensors\", \"data\": \"images\", \"cacheDirectory\": \"../c\" }",
            Path.Combine("sub", "s.json"));
        Assert.Empty(diagnostics);
        Assert.Equal(_dir.Combine("sub", "w.safetensors"), spec!.Weights);
        Assert.Equal(_dir.Combine("sub", "images"), spec.Data);
        Assert.Equal(_dir.Combine("c"), spec.CacheDirectory);
    }

    [Fact]
    public void Parse_MissingWeightsAndData_ReportCmp0005AndCmp0201AtTheirLines()
    {
        var (spec, diagnostics) = Parse("{\n  \"weights\": \"nope.safetensors\",\n  \"data\": \"no-folder\"\n}");
        Assert.Null(spec);
        Assert.Collection(diagnostics,
            d => Assert.Equal((DiagnosticCode.FileNotFound, 2, 14), (d.Code, d.Line!.Value, d.Column!.Value)),
            d => Assert.Equal((DiagnosticCode.DatasetNotFound, 3, 11), (d.Code, d.Line!.Value, d.Column!.Value)));
        Assert.Contains(_dir.Combine("nope.safetensors"), diagnostics[0].Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_SyntaxError_ReportsCmp0601AtTheLineAndColumnOfTheBadToken()
    {
        // Line 4 lacks the comma before it: the parser stops at the quote that opens "threads" (line 4, column 3).
        var (spec, diagnostics) = Parse("{\n  \"name\": \"a\",\n  \"seed\": 1\n  \"threads\": 2\n}");
        Assert.Null(spec);
        var d = Assert.Single(diagnostics);
        Assert.Equal(DiagnosticCode.SpecSyntaxError, d.Code);
        Assert.Equal((4, 3), (d.Line!.Value, d.Column!.Value));
        Assert.StartsWith(_dir.Combine("app.json") + "(4,3): error CMP0620:", d.Format(), StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_SeveralBadValues_ReportsEveryOneAtItsValue()
    {
        string json = "{\n  \"pruneRate\": 1.5,\n  \"fineTuneEpochs\": -1,\n  \"model\": { \"architecture\": \"resnet19\", \"classes\": \"ten\" },\n" +
                      "  \"minAccuracy\": 101,\n  \"device\": \"tpu\"\n}";
        var (spec, diagnostics) = Parse(json);
        Assert.Null(spec);
        var found = diagnostics.Select(d => (d.Code, d.Line!.Value, d.Column!.Value)).ToList();
        Assert.Equal(
        [
            (DiagnosticCode.InvalidRate, 2, 16),
            (DiagnosticCode.InvalidSpecValue, 3, 21),
            (DiagnosticCode.UnknownArchitecture, 4, 30),
            (DiagnosticCode.InvalidModelOption, 4, 53),
            (DiagnosticCode.InvalidSpecValue, 5, 18),
            (DiagnosticCode.InvalidSpecValue, 6, 13),
        ], found);
        Assert.All(diagnostics, d => Assert.Equal(DiagnosticSeverity.Error, d.Severity));
        Assert.Contains("did you mean 'resnet18'", diagnostics[2].Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_UnknownKey_WarnsWithSuggestionAndStillParses()
    {
        var (spec, diagnostics) = Parse("{\n  \"minAcuracy\": 50,\n  \"model\": { \"clases\": 3 },\n  \"zzzzzzzz\": 1\n}");
        Assert.NotNull(spec);
        Assert.Null(spec.MinAccuracy);
        Assert.All(diagnostics, d => Assert.Equal((DiagnosticSeverity.Warning, DiagnosticCode.UnknownSpecKey), (d.Severity, d.Code)));
        Assert.Equal([(2, 3), (3, 14), (4, 3)], diagnostics.Select(d => (d.Line!.Value, d.Column!.Value)));
        Assert.Contains("did you mean 'minAccuracy'?", diagnostics[0].Message, StringComparison.Ordinal);
        Assert.Contains("did you mean 'model.classes'?", diagnostics[1].Message, StringComparison.Ordinal);
        Assert.DoesNotContain("did you mean", diagnostics[2].Message, StringComparison.Ordinal);
        Assert.Contains("(2,3): warning CMP0621:", diagnostics[0].Format(), StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_NonAsciiBeforeTheValue_CountsColumnsInCharacters()
    {
        var (_, diagnostics) = Parse("{ \"name\": \"é\", \"seed\": \"x\" }");
        var d = Assert.Single(diagnostics);
        Assert.Equal((1, 24), (d.Line!.Value, d.Column!.Value));
    }

    [Fact]
    public void Load_SeveralErrors_ReportsAllButTheLastAndThrowsTheLast()
    {
        string path = _dir.Combine("bad.json");
        File.WriteAllText(path, "{\n  \"seed\": 1.5,\n  \"nam\": \"x\",\n  \"threads\": -2\n}");
        var sink = new CollectingSink();
        var e = Assert.Throws<CompressException>(() => BuildSpecParser.Load(path, sink));
        Assert.Equal((DiagnosticCode.InvalidSpecValue, 4, 14), (e.Code, e.Line!.Value, e.Column!.Value));
        Assert.Equal(
            [(DiagnosticCode.InvalidSpecValue, 2), (DiagnosticCode.UnknownSpecKey, 3)],
            sink.Diagnostics.Select(d => (d.Code, d.Line!.Value)));
    }

    [Fact]
    public void EditDistance_ClassicPairs_MatchTheTextbookValues()
    {
        Assert.Equal(3, BuildSpecParser.EditDistance("kitten", "sitting"));
        Assert.Equal(0, BuildSpecParser.EditDistance("Seed", "seed"));
        Assert.Equal(4, BuildSpecParser.EditDistance("", "name"));
        Assert.Equal("pruneRate", BuildSpecParser.Suggest("prunerate", BuildSpecParser.Keys));
    }

    [Theory]
    [InlineData("method")]
    [InlineData("criterion")]
    [InlineData("scope")]
    [InlineData("schedule")]
    [InlineData("scheduleShape")]
    [InlineData("ranking")]
    public void Schema_ChoicesAreTheSharedNames(string key)
    {
        using var schema = JsonDocument.Parse(File.ReadAllText(Path.Combine(RepoPaths.Root, "build", "compress.schema.json")));
        var values = schema.RootElement.GetProperty("properties").GetProperty(key).GetProperty("enum").EnumerateArray().Select(v => v.GetString());
        string[] expected = key switch
        {
            "method" => Compress.Shared.PruningChoices.Methods,
            "criterion" => Compress.Shared.PruningChoices.Criteria,
            "scope" => Compress.Shared.PruningChoices.Scopes,
            "schedule" => Compress.Shared.PruningChoices.Schedules,
            "scheduleShape" => Compress.Shared.PruningChoices.ScheduleShapes,
            _ => Compress.Shared.PruningChoices.Rankings,
        };
        Assert.Equal(expected, values);
        Assert.True(Compress.Engine.Pruning.PruningNames.TablesMatchTheSharedNames());
    }

    [Fact]
    public void Schema_DescribesExactlyTheKeysTheParserKnows()
    {
        using var schema = JsonDocument.Parse(File.ReadAllText(Path.Combine(RepoPaths.Root, "build", "compress.schema.json")));
        var root = schema.RootElement;
        Assert.Equal("https://json-schema.org/draft/2020-12/schema", root.GetProperty("$schema").GetString());
        var keys = new List<string>();
        // "$schema" is for editors; the parser skips it without it being an option.
        foreach (var p in root.GetProperty("properties").EnumerateObject().Where(p => p.Name != "$schema"))
        {
            keys.Add(p.Name);
            Assert.False(string.IsNullOrWhiteSpace(p.Value.GetProperty("description").GetString()), p.Name);
            if (p.Value.TryGetProperty("properties", out var nested))
                foreach (var n in nested.EnumerateObject())
                {
                    keys.Add(p.Name + "." + n.Name);
                    Assert.True(n.Value.TryGetProperty("default", out _), p.Name + "." + n.Name);
                }
            // The name's default is the spec file's own name, which a schema cannot state as a value.
            else if (p.Name != "name") Assert.True(p.Value.TryGetProperty("default", out _), p.Name);
        }
        Assert.Equal(BuildSpecParser.Keys.Order(StringComparer.Ordinal), keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Parse_MethodOptions_ReadsEveryKeyAndItsTypes()
    {
        var (spec, diagnostics) = Parse("""
            { "method": "channel", "channelRatio": { "layer1.0.conv1": 0.5 }, "ranking": "NAIVE", "globalRanking": false,
              "ignoredLayers": ["conv1", "layer4.1.conv2"] }
            """, "m.json");

        Assert.Empty(diagnostics);
        Assert.Equal("channel", spec!.Method);
        Assert.Equal(0.5, spec.ChannelLayerRatios!["layer1.0.conv1"]);
        Assert.Equal("naive", spec.Ranking);
        Assert.Equal(["conv1", "layer4.1.conv2"], spec.IgnoredLayers);
    }

    [Fact]
    public void Parse_BadMethodValues_ReportsEachWithItsLine()
    {
        var (spec, diagnostics) = Parse("{\n \"method\": \"chanel\",\n \"channelRatio\": 1,\n \"ranking\": \"l3\",\n \"ignoredLayers\": \"conv1\"\n}", "bad.json");

        Assert.Null(spec);
        Assert.Collection(diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error),
            d => Assert.True(d.Line == 2 && d.Message.Contains("did you mean \"channel\"", StringComparison.Ordinal), d.Message),
            d => Assert.True(d.Line == 3 && d.Message.Contains("[0, 1)", StringComparison.Ordinal), d.Message),
            d => Assert.True(d.Line == 4 && d.Code == DiagnosticCode.InvalidSpecValue, d.Message),
            d => Assert.True(d.Line == 5 && d.Message.Contains("array of strings", StringComparison.Ordinal), d.Message));
    }

    [Fact]
    public void Parse_LayerwiseWithoutSparsityOrSensitivity_IsAnErrorAtTheMethodKey()
    {
        var (spec, diagnostics) = Parse("{\n \"method\": \"layerwise\"\n}", "lw.json");

        Assert.Null(spec);
        var error = Assert.Single(diagnostics);
        Assert.Equal(DiagnosticCode.InvalidSpecValue, error.Code);
        Assert.Equal(2, error.Line);
    }

    [Fact]
    public void Parse_OnnxModelPathAndPreprocessing_ResolvedAgainstTheSpecFolder()
    {
        File.WriteAllBytes(_dir.Combine("app.onnx"), [1]);
        var (spec, diagnostics) = Parse("""{ "model": "app.onnx", "normalize": "0.5,0.5,0.5/0.25,0.25,0.25", "embedPreprocessing": true }""");
        Assert.Empty(diagnostics);
        Assert.Equal(_dir.Combine("app.onnx"), spec!.Model.Architecture);
        Assert.True(spec.Model.IsOnnx);
        Assert.Equal("0.5,0.5,0.5/0.25,0.25,0.25", spec.Normalize!.Text);
        Assert.True(spec.EmbedPreprocessing);
    }

    [Fact]
    public void Parse_MissingOnnxModelAndBadNormalize_BothReportedAtTheirLines()
    {
        var (_, diagnostics) = Parse("{\n  \"model\": \"missing.onnx\",\n  \"normalize\": \"imagenett\"\n}");
        Assert.Contains(diagnostics, d => d.Code == DiagnosticCode.FileNotFound && d.Line == 2 && d.Message.Contains("missing.onnx", StringComparison.Ordinal));
        Assert.Contains(diagnostics, d => d.Code == DiagnosticCode.InvalidSpecValue && d.Line == 3 && d.Message.Contains("imagenett", StringComparison.Ordinal));
    }

    [Fact]
    public void Parse_ModelNameAsString_IsTheArchitecture()
    {
        var (spec, diagnostics) = Parse("""{ "model": "LeNet5" }""");
        Assert.Empty(diagnostics);
        Assert.Equal("lenet5", spec!.Model.Architecture);
    }

    [Fact]
    public void Parse_ChannelMethodCriterion_IsItsRanking()
    {
        var (spec, diagnostics) = Parse("{ \"method\": \"channel\", \"criterion\": \"gradient\" }");
        Assert.DoesNotContain(diagnostics, d => d.Severity == DiagnosticSeverity.Error);
        Assert.Equal("gradient", spec!.Ranking);
        var (magnitude, _) = Parse("{ \"method\": \"channel\", \"criterion\": \"magnitude\" }");
        Assert.Equal("l2", magnitude!.Ranking);
    }

    [Fact]
    public void Parse_UnstructuredMethod_ReadsCriterionScopeAndSchedule()
    {
        var (spec, diagnostics) = Parse("""
            { "method": "unstructured", "criterion": "gradient", "scope": "layer", "includeClassifier": true, "gradientImages": 64,
              "schedule": "iterative", "steps": 4, "scheduleShape": "cubic", "epochsBetween": 0 }
            """);
        Assert.DoesNotContain(diagnostics, d => d.Severity == DiagnosticSeverity.Error);
        Assert.Equal(("unstructured", "gradient", "layer", true, 64), (spec!.Method, spec.Criterion, spec.Scope, spec.IncludeClassifier, spec.GradientImages));
        Assert.Equal(("iterative", 4, "cubic", 0), (spec.Schedule, spec.Steps, spec.ScheduleShape, spec.EpochsBetween));
    }

    [Theory]
    [InlineData("{ \"criterion\": \"gradient\" }", "'criterion' applies to 'method' \"unstructured\" or \"channel\" only")]
    [InlineData("{ \"method\": \"channel\", \"criterion\": \"gradient\", \"ranking\": \"l1\" }", "'criterion' and 'ranking' both choose")]
    [InlineData("{ \"method\": \"unstructured\", \"steps\": 3 }", "'steps' needs 'schedule' \"iterative\"")]
    [InlineData("{ \"method\": \"unstructured\", \"criterion\": \"gradiant\" }", "did you mean \"gradient\"?")]
    [InlineData("{ \"method\": \"dynamic\", \"dynamicPrune\": \"filter\" }", "'dynamicPrune' \"filter\" needs 'targetSparsity'")]
    [InlineData("{ \"method\": \"channel\", \"targetSparsity\": 0.5 }", "'targetSparsity' applies to 'method' \"dynamic\" only")]
    [InlineData("{ \"maskInterval\": 4 }", "'maskInterval' applies to 'method' \"dynamic\" only")]
    [InlineData("{ \"method\": \"dynamic\", \"targetSparsity\": 1 }", "'targetSparsity'")]
    [InlineData("{ \"method\": \"dynamic\", \"rampEnd\": 0 }", "'rampEnd'")]
    [InlineData("{ \"method\": \"dynamic\", \"dynamicPrune\": \"filters\", \"targetSparsity\": 0.5 }", "did you mean \"filter\"?")]
    [InlineData("{ \"decorrelationVariant\": \"literal\" }", "'decorrelationVariant' needs 'decorrelation' above 0")]
    [InlineData("{ \"maxTrials\": 3 }", "'maxTrials' applies to 'pruneRate' \"auto\" only")]
    [InlineData("{ \"pruneRate\": \"auto\", \"method\": \"layerwise\", \"sensitivity\": \"auto\" }", "'pruneRate' \"auto\" searches")]
    [InlineData("{ \"pruneRate\": \"auto\", \"maxTrials\": 0 }", "'maxTrials'")]
    [InlineData("{ \"maxRelativeAccuracyDrop\": 101 }", "'maxRelativeAccuracyDrop'")]
    [InlineData("{ \"maxBytes\": 0 }", "'maxBytes'")]
    [InlineData("{ \"minSpeedup\": \"fast\" }", "'minSpeedup'")]
    public void Parse_MethodKeysMisused_ReportCmp0622AtTheKey(string json, string message)
    {
        var (spec, diagnostics) = Parse(json);
        Assert.Null(spec);
        var error = Assert.Single(diagnostics, d => d.Severity == DiagnosticSeverity.Error);
        Assert.Equal(DiagnosticCode.InvalidSpecValue, error.Code);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
        Assert.Equal(1, error.Line);
    }

    [Theory]
    [InlineData("{ \"method\": \"channel\", \"ignoredLayers\": [\"conv1\", \"nope\"] }", "CMP0702", 51, "no layer 'nope' (given as ignored layer)")]
    [InlineData("{ \"method\": \"channel\", \"channelRatio\": { \"layer1.0.conv\": 0.3 } }", "CMP0702", 42, "did you mean 'layer1.0.conv1'?")]
    [InlineData("{ \"method\": \"layerwise\", \"sparsity\": { \"conv1.weight\": 0.2, \"fc.weigth\": 0.5 } }", "CMP0750", 61, "did you mean 'fc.weight'?")]
    [InlineData("{ \"syntheticTrain\": 600000 }", "CMP0622", 21, "from 1 to 500000")]
    public void Parse_LayerNamesAndSizesOfABuiltInModel_AreCheckedAtTheirPositionBeforeAnyTraining(string json, string code, int column, string message)
    {
        var (spec, diagnostics) = Parse(json);
        Assert.Null(spec);
        var error = Assert.Single(diagnostics, d => d.Severity == DiagnosticSeverity.Error);
        Assert.Equal((code, 1, column), (error.Code, error.Line, error.Column));
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_MemoryFormat_DefaultsToAutoReadsEachNameAndRejectsOthersAtTheirPosition()
    {
        Assert.Equal(("auto", "float32"), (Parse("{}").Spec!.MemoryFormat, Parse("{}").Spec!.Precision));
        Assert.Equal("bfloat16", Parse("{ \"precision\": \"bfloat16\" }").Spec!.Precision);
        foreach (string name in Compress.Engine.Pruning.PruningNames.MemoryFormats)
            Assert.Equal(name, Parse($"{{ \"memoryFormat\": \"{name.ToUpperInvariant()}\" }}").Spec!.MemoryFormat);
        var (_, diagnostics) = Parse("{\n  \"memoryFormat\": \"channels_last\"\n}");
        var error = Assert.Single(diagnostics, d => d.Severity == DiagnosticSeverity.Error);
        Assert.Equal(DiagnosticCode.InvalidSpecValue, error.Code);
        Assert.Contains("did you mean \"channels-last\"", error.Message, StringComparison.Ordinal);
        Assert.Equal(2, error.Line);
    }

    [Fact]
    public void Parse_DynamicMethod_ReadsVariantTargetScheduleAndRegulariser()
    {
        var (spec, diagnostics) = Parse("""
            { "method": "dynamic", "dynamicPrune": "filter", "targetSparsity": 0.6, "filterRanking": "raw", "maskInterval": 8, "rampEnd": 0.5,
              "decorrelation": 0.7, "decorrelationVariant": "literal", "ignoredLayers": ["conv1"] }
            """);
        Assert.DoesNotContain(diagnostics, d => d.Severity == DiagnosticSeverity.Error);
        Assert.Equal(("dynamic", "filter", 0.6, 8, 0.5), (spec!.Method, spec.DynamicPrune, spec.TargetSparsity, spec.MaskInterval, spec.RampEnd));
        Assert.Equal((0.7, "literal", "raw"), (spec.Decorrelation, spec.DecorrelationVariant, spec.FilterRanking));
        var (defaults, _) = Parse("{ \"method\": \"dynamic\" }");
        Assert.Equal(("unstructured", null, 16, 0.75, 0.0), (defaults!.DynamicPrune, defaults.TargetSparsity, defaults.MaskInterval, defaults.RampEnd, defaults.Decorrelation));
    }

    [Fact]
    public void Parse_SearchAndGates_ReadsAutoMaxTrialsAndTheRelativeSizeAndLatencyGates()
    {
        var (spec, diagnostics) = Parse("""
            { "pruneRate": "auto", "maxTrials": 4, "maxRelativeAccuracyDrop": 1.5, "maxBytes": 1500000, "minSpeedup": 1.2, "method": "channel" }
            """);
        Assert.DoesNotContain(diagnostics, d => d.Severity == DiagnosticSeverity.Error);
        Assert.Equal(("auto", 4, 1.5, 1_500_000L, 1.2), (spec!.PruneRate, spec.MaxTrials, spec.MaxRelativeAccuracyDrop, spec.MaxBytes, spec.MinSpeedup));
        var (defaults, _) = Parse("{ }");
        Assert.Equal(("safe", 6, null, null, null), (defaults!.PruneRate, defaults.MaxTrials, defaults.MaxRelativeAccuracyDrop, defaults.MaxBytes, (double?)defaults.MinSpeedup));
    }

    [Theory]
    [InlineData("{\n  \"name\": \"a\u00ffb\"\n}", 2, 13)]
    [InlineData("{\n  \"na\u00ffme\": \"x\"\n}", 2, 6)]
    public void Parse_InvalidUtf8InAKeyOrValue_IsCmp0620AtItsLineAndColumn(string text, int line, int column)
    {
        byte[] utf8 = System.Text.Encoding.UTF8.GetBytes(text);
        int at = Array.IndexOf(utf8, (byte)0xC3);
        byte[] broken = [.. utf8[..at], 0xFF, .. utf8[(at + 2)..]];

        var (spec, diagnostics) = BuildSpecParser.Parse(_dir.Combine("bad.json"), broken);

        Assert.Null(spec);
        var error = Assert.Single(diagnostics);
        Assert.Equal((DiagnosticCode.SpecSyntaxError, line, column), (error.Code, error.Line, error.Column));
        Assert.Contains("not valid UTF-8", error.Message, StringComparison.Ordinal);
    }
}

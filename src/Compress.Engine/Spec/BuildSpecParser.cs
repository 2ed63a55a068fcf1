using System.Globalization;
using System.Text.Json;
using Compress.Engine.Data;
using Compress.Engine.Diagnostics;
using Compress.Engine.Models;

namespace Compress.Engine.Spec;

/// <summary>
/// Reads a <c>compress run --spec</c> JSON file with a position-tracking <see cref="Utf8JsonReader"/>, so that every
/// problem carries the line and column MSBuild and editors jump to. Collects all problems instead of stopping at the
/// first: a syntax error (CMP0620), unknown keys (warning CMP0621 with a did-you-mean), wrong types and values out of
/// range (CMP0622; CMP0101 unknown architecture, CMP0102 model option, CMP0301 prune rate), missing weights (CMP0005)
/// or data (CMP0201). Comments and trailing commas are allowed, as in other build files.
/// </summary>
public static class BuildSpecParser
{
    /// <summary>Every key the parser knows, dotted for nested ones; build/compress.schema.json lists the same set.</summary>
    public static IReadOnlyList<string> Keys { get; } =
    [
        "name", "model", "model.architecture", "model.widthMultiplier", "model.classes", "weights", "data",
        "syntheticTrain", "syntheticTest", "pruneRate", "fineTuneEpochs", "baselineEpochs", "minAccuracy",
        "maxAccuracyDrop", "device", "seed", "threads", "memoryFormat", "precision", "outputDirectory", "intermediateDirectory", "cacheDirectory",
        "method", "channelRatio", "ranking", "globalRanking", "ignoredLayers", "sparsity", "sensitivity", "targetSize",
        "sensitivityMaxDrop", "channelRoundTo", "normalize", "embedPreprocessing", "criterion", "scope", "includeClassifier",
        "gradientImages", "schedule", "steps", "scheduleShape", "epochsBetween", "dynamicPrune", "targetSparsity",
        "maskInterval", "rampEnd", "decorrelation", "decorrelationVariant", "filterRanking", "maxTrials",
        "maxRelativeAccuracyDrop", "maxBytes", "minSpeedup", "allowOutputOutsideProject",
    ];

    private static readonly HashSet<string> PathKeys =
        ["weights", "data", "outputDirectory", "intermediateDirectory", "cacheDirectory", "sparsity", "model", "model.architecture"];

    private static readonly string[] IterativeKeys = ["steps", "scheduleShape", "epochsBetween"];
    private static readonly string[] CriterionKeys = ["criterion", "gradientImages"];
    private static readonly string[] ScheduleKeys = ["schedule", "steps", "scheduleShape", "epochsBetween"];
    private static readonly string[] DynamicKeys = ["dynamicPrune", "targetSparsity", "maskInterval", "rampEnd", "filterRanking"];

    private static readonly string[] TopKeys = [.. Keys.Where(k => !k.Contains('.', StringComparison.Ordinal))];
    private static readonly string[] ModelKeys = [.. Keys.Where(k => k.StartsWith("model.", StringComparison.Ordinal)).Select(k => k[6..])];

    /// <summary>
    /// Reads and validates <paramref name="path"/>. Warnings and every error but the last go to <paramref name="sink"/>
    /// (each exactly once, in file order); the last error is thrown, so a caller that prints the exception prints all.
    /// </summary>
    public static BuildSpec Load(string path, IDiagnosticSink sink)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(sink);
        string full = Path.GetFullPath(path);
        if (!File.Exists(full))
            throw new CompressException(DiagnosticCode.FileNotFound, $"Spec file '{full}' does not exist.", full,
                "Check the path given to --spec.");
        var (spec, diagnostics) = Parse(full, File.ReadAllBytes(full));
        var errors = diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
        foreach (var d in diagnostics)
            if (d.Severity == DiagnosticSeverity.Warning || (errors.Count > 0 && !ReferenceEquals(d, errors[^1]))) sink.Report(d);
        if (errors.Count > 0)
        {
            var last = errors[^1];
            throw new CompressException(last.Code, last.Message, last.FilePath, last.Hint) { Line = last.Line, Column = last.Column };
        }
        return spec!;
    }

    /// <summary>
    /// Parses <paramref name="utf8"/> as the spec at <paramref name="path"/> (relative paths resolve against its folder;
    /// weights and data must exist). Returns the spec (null when there are errors) and every diagnostic in file order.
    /// </summary>
    public static (BuildSpec? Spec, IReadOnlyList<Diagnostic> Diagnostics) Parse(string path, ReadOnlySpan<byte> utf8)
    {
        string full = Path.GetFullPath(path);
        var diagnostics = new List<Diagnostic>();
        if (utf8.StartsWith("\uFEFF"u8)) utf8 = utf8[3..];
        if (Utf8Input.FirstInvalid(utf8) is var (offset, badLine, badColumn))
        {
            diagnostics.Add(Diagnostic.Error(DiagnosticCode.SpecSyntaxError, string.Create(CultureInfo.InvariantCulture,
                $"The spec is not valid UTF-8: byte {offset} (0x{utf8[(int)offset]:X2}) does not start a valid character."),
                full, "Save the spec as UTF-8 (JSON text must be UTF-8).", badLine, badColumn));
            return (null, diagnostics);
        }
        Node root;
        try
        {
            root = Node.Read(utf8);
        }
        catch (JsonException e)
        {
            int line = (int)(e.LineNumber ?? 0) + 1;
            int column = (int)(e.BytePositionInLine ?? 0) + 1;
            diagnostics.Add(Diagnostic.Error(DiagnosticCode.SpecSyntaxError, $"The spec is not valid JSON: {StripPosition(e.Message)}",
                full, "Fix the JSON syntax (comments and trailing commas are allowed).", line, column));
            return (null, diagnostics);
        }
        return new Reader(full, diagnostics).Read(root);
    }

    /// <summary>Levenshtein edit distance (insert, delete, substitute; each cost 1), case-insensitive.</summary>
    public static int EditDistance(string a, string b) => Shared.NameSuggestions.EditDistance(a, b);

    /// <summary>The known key closest to <paramref name="key"/> when it is close enough to be a typo, else null.</summary>
    public static string? Suggest(string key, IEnumerable<string> known)
    {
        ArgumentNullException.ThrowIfNull(key);
        return Shared.NameSuggestions.Closest(key, known, Math.Max(2, key.Length / 3));
    }

    private static string StripPosition(string message)
    {
        int at = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        return (at > 0 ? message[..at] : message).Trim();
    }

    private sealed class Reader(string specPath, List<Diagnostic> diagnostics)
    {
        private readonly string _folder = Path.GetDirectoryName(specPath)!;
        private readonly Dictionary<string, SpecLocation> _locations = [];
        private int _errors;

        public (BuildSpec? Spec, IReadOnlyList<Diagnostic> Diagnostics) Read(Node root)
        {
            if (root.Kind != JsonTokenType.StartObject)
            {
                Error(DiagnosticCode.InvalidSpecValue, "The spec must be a JSON object ({ \"name\": ... }).", root.Location);
                return (null, diagnostics);
            }
            var values = Properties(root, "", TopKeys);
            var defaults = new BuildSpec { SpecPath = specPath, Name = "x", OutputDirectory = "", IntermediateDirectory = "", CacheDirectory = "" };
            string name = String(values, "name") ?? Path.GetFileNameWithoutExtension(specPath);
            if (values.TryGetValue("name", out var nameNode) && !BuildSpec.IsValidName(name))
                Error(DiagnosticCode.InvalidSpecValue, $"'name' must be a non-empty file name without folders, control characters or any of <>:\"/\\|?* (got \"{name}\").",
                    nameNode.Location, "Use letters, digits, '-', '_' and '.', e.g. \"classifier\".");

            var model = defaults.Model;
            if (values.TryGetValue("model", out var modelNode) && modelNode.Kind == JsonTokenType.String)
            {
                // "model": "models/app.onnx" (an ONNX file, relative to the spec) or "model": "resnet18-cifar".
                model = new ModelOptions { Architecture = Architecture(modelNode.Text ?? "", modelNode.Location) ?? model.Architecture };
            }
            else if (modelNode is not null && modelNode.Kind != JsonTokenType.Null)
            {
                if (modelNode.Kind != JsonTokenType.StartObject)
                    TypeError("model", "an .onnx path, an architecture name or an object { \"architecture\", \"widthMultiplier\", \"classes\" }", modelNode);
                else
                {
                    var m = Properties(modelNode, "model.", ModelKeys);
                    string? architecture = String(m, "model.architecture");
                    if (architecture is not null) architecture = Architecture(architecture, m["model.architecture"].Location);
                    double? width = Number(m, "model.widthMultiplier", 1e-9, ModelFactory.MaxWidthMultiplier, "a number > 0 and at most 64", DiagnosticCode.InvalidModelOption);
                    int? classes = Integer(m, "model.classes", 2, ModelFactory.MaxClasses, "an integer from 2 to 100000", DiagnosticCode.InvalidModelOption);
                    model = new ModelOptions
                    {
                        Architecture = architecture ?? model.Architecture,
                        WidthMultiplier = width ?? model.WidthMultiplier,
                        Classes = classes ?? model.Classes,
                    };
                }
            }

            string? weights = ExistingPath(values, "weights", isFolder: false);
            string data = DataSource(values);
            string rate = RateValue(values);
            var spec = new BuildSpec
            {
                SpecPath = specPath,
                Name = name,
                Model = model,
                Weights = weights,
                Data = data,
                SyntheticTrain = Integer(values, "syntheticTrain", 1, SyntheticImages.MaxImagesPerSplit, "an integer from 1 to 500000") ?? defaults.SyntheticTrain,
                SyntheticTest = Integer(values, "syntheticTest", 1, SyntheticImages.MaxImagesPerSplit, "an integer from 1 to 500000") ?? defaults.SyntheticTest,
                PruneRate = rate,
                FineTuneEpochs = Integer(values, "fineTuneEpochs", 0, 10_000, "an integer in [0, 10000]") ?? defaults.FineTuneEpochs,
                BaselineEpochs = Integer(values, "baselineEpochs", 1, 10_000, "an integer in [1, 10000]") ?? defaults.BaselineEpochs,
                MinAccuracy = Number(values, "minAccuracy", 0, 100, "a percentage in [0, 100]"),
                MaxAccuracyDrop = Number(values, "maxAccuracyDrop", 0, 100, "a number of percentage points in [0, 100]"),
                MaxRelativeAccuracyDrop = Number(values, "maxRelativeAccuracyDrop", 0, 100, "a percentage of the unpruned accuracy in [0, 100]"),
                MaxBytes = Number(values, "maxBytes", 1, 1e15, "a number of bytes >= 1") is double bytes ? (long)Math.Floor(bytes) : null,
                MinSpeedup = Number(values, "minSpeedup", 0.01, 1000, "a speedup factor such as 1.2 (in [0.01, 1000])"),
                MaxTrials = Integer(values, "maxTrials", 1, 50, "an integer from 1 to 50") ?? defaults.MaxTrials,
                AllowOutputOutsideProject = Boolean(values, "allowOutputOutsideProject") ?? false,
                Device = DeviceValue(values),
                Seed = Integer(values, "seed", int.MinValue, int.MaxValue, "an integer") ?? 0,
                Threads = Integer(values, "threads", 0, Runtime.TorchRuntime.MaxThreads, "an integer from 0 (one per core) to 1024") ?? 0,
                MemoryFormat = Choice(values, "memoryFormat", [.. Pruning.PruningNames.MemoryFormats]) ?? "auto",
                Precision = Choice(values, "precision", [.. Pruning.PruningNames.Precisions]) ?? "float32",
                OutputDirectory = FullPath(String(values, "outputDirectory") ?? Path.Combine("bin", "compress")),
                IntermediateDirectory = FullPath(String(values, "intermediateDirectory") ?? Path.Combine("obj", "compress")),
                CacheDirectory = "",
                Locations = _locations,
            };
            spec = spec with
            {
                CacheDirectory = String(values, "cacheDirectory") is string cache ? FullPath(cache) : Path.Combine(spec.IntermediateDirectory, "cache"),
            };
            spec = ReadMethod(values, spec);
            CheckLayerNames(values, spec);
            diagnostics.Sort((x, y) => (x.Line ?? 0, x.Column ?? 0).CompareTo((y.Line ?? 0, y.Column ?? 0)));
            return (_errors == 0 ? spec : null, diagnostics);
        }

        /// <summary>
        /// Layer names of a built-in model checked now, at their position, not minutes later after the baseline: ignored
        /// layers and per-layer channel ratios (CMP0702) and inline per-layer sparsities (CMP0750). An imported ONNX
        /// model's names are known only once it is read; the pruning step checks those.
        /// </summary>
        private void CheckLayerNames(Dictionary<string, Node> values, BuildSpec spec)
        {
            if (spec.Model.IsOnnx) return;
            Models.Graph.ModelGraph graph;
            try
            {
                graph = ModelFactory.GraphOf(spec.Model);
            }
            catch (CompressException)
            {
                return; // the model options are wrong, which is reported at their own key
            }
            var layers = Pruning.Channels.ChannelDependencyAnalyzer.LayerNames(graph);
            var weights = graph.StateShapes.Where(p => p.Value.Length > 1).Select(p => p.Key).ToList();
            var named = new List<(string Name, SpecLocation At, string What)>();
            if (values.TryGetValue("ignoredLayers", out var ignored) && ignored.Items is not null)
                named.AddRange(ignored.Items.Where(i => i.Text is not null).Select(i => (i.Text!, i.Location, "ignored layer")));
            if (values.TryGetValue("channelRatio", out var ratios) && ratios.Properties is not null)
                named.AddRange(ratios.Properties.Select(p => (p.Key, p.KeyLocation, "a per-layer ratio")));
            foreach (var (name, at, what) in named)
            {
                if (layers.Contains(name, StringComparer.Ordinal)) continue;
                var e = Pruning.Channels.ChannelDependencyAnalyzer.UnknownLayer(name, layers, what);
                Error(e.Code, e.Message, at, e.Hint);
            }
            if (values.TryGetValue("sparsity", out var sparsity) && sparsity.Properties is not null)
            {
                foreach (var (name, at, _) in sparsity.Properties)
                {
                    if (weights.Contains(name, StringComparer.Ordinal)) continue;
                    string? close = Compress.Shared.NameSuggestions.Closest(name, weights, Math.Max(2, name.Length / 3));
                    Error(DiagnosticCode.UnknownPrunableParameter, $"Cannot prune: '{name}' is not a prunable weight of {spec.Model.Architecture}" +
                        (close is null ? "." : $" (did you mean '{close}'?)."), at, Pruning.FineGrained.LayerwiseMagnitudePruner.NamesHint);
                }
            }
        }

        /// <summary>The pruning method and its options; cross-checks that the method has what it needs.</summary>
        private BuildSpec ReadMethod(Dictionary<string, Node> values, BuildSpec spec)
        {
            string method = Choice(values, "method", [.. Pruning.PruningNames.Methods]) ?? "global";
            double ratio = spec.ChannelRatio;
            IReadOnlyDictionary<string, double>? layerRatios = null;
            if (values.TryGetValue("channelRatio", out var ratioNode) && ratioNode.Kind != JsonTokenType.Null)
            {
                if (ratioNode.Kind == JsonTokenType.StartObject) layerRatios = NumberMap(ratioNode, "channelRatio", 0, 0.999999, "a ratio in [0, 1)");
                else ratio = Number(values, "channelRatio", 0, 0.999999, "a ratio in [0, 1), or an object { \"layer\": ratio }") ?? ratio;
            }
            IReadOnlyDictionary<string, double>? sparsity = null;
            string? sparsityFile = null;
            if (values.TryGetValue("sparsity", out var sparsityNode) && sparsityNode.Kind != JsonTokenType.Null)
            {
                if (sparsityNode.Kind == JsonTokenType.StartObject) sparsity = NumberMap(sparsityNode, "sparsity", 0, 1, "a sparsity in [0, 1]");
                else if (ExistingPath(values, "sparsity", isFolder: false) is string file && File.Exists(file))
                {
                    try
                    {
                        sparsity = Pruning.FineGrained.SparsityFile.Load(file);
                        sparsityFile = Path.GetFullPath(file);
                    }
                    catch (CompressException e)
                    {
                        Error(e.Code, e.Message, sparsityNode.Location, e.Hint);
                    }
                }
            }
            string? sensitivity = Choice(values, "sensitivity", ["auto"]);
            var result = spec with
            {
                Method = method,
                ChannelRatio = ratio,
                ChannelLayerRatios = layerRatios,
                ChannelRoundTo = Integer(values, "channelRoundTo", 1, 1024, "an integer >= 1") ?? 1,
                Ranking = Choice(values, "ranking", [.. Pruning.Channels.ChannelRankingNames.All]) ?? spec.Ranking,
                GlobalRanking = Boolean(values, "globalRanking") ?? false,
                Normalize = NormalizeValue(values),
                EmbedPreprocessing = Boolean(values, "embedPreprocessing") ?? false,
                IgnoredLayers = StringList(values, "ignoredLayers") ?? [],
                Sparsity = sparsity,
                SparsityFile = sparsityFile,
                Sensitivity = sensitivity,
                TargetSize = Number(values, "targetSize", 1e-6, 1, "a fraction in (0, 1] of the prunable weights to keep") ?? spec.TargetSize,
                SensitivityMaxDrop = Number(values, "sensitivityMaxDrop", 0, 100, "a number of percentage points in [0, 100]") ?? spec.SensitivityMaxDrop,
                Criterion = Choice(values, "criterion", [.. Pruning.PruningNames.Criteria]) ?? spec.Criterion,
                Scope = Choice(values, "scope", [.. Pruning.PruningNames.Scopes]) ?? spec.Scope,
                IncludeClassifier = Boolean(values, "includeClassifier") ?? false,
                GradientImages = Integer(values, "gradientImages", 1, 1_000_000, "an integer >= 1") ?? spec.GradientImages,
                Schedule = Choice(values, "schedule", [.. Pruning.PruningNames.Schedules]) ?? spec.Schedule,
                Steps = Integer(values, "steps", 1, 1000, "an integer from 1 to 1000") ?? spec.Steps,
                ScheduleShape = Choice(values, "scheduleShape", [.. Pruning.PruningNames.ScheduleShapes]) ?? spec.ScheduleShape,
                EpochsBetween = Integer(values, "epochsBetween", 0, 1000, "an integer >= 0") ?? spec.EpochsBetween,
                DynamicPrune = Choice(values, "dynamicPrune", [.. Pruning.PruningNames.DynamicVariants]) ?? spec.DynamicPrune,
                TargetSparsity = Number(values, "targetSparsity", 0, 0.999999, "a fraction in [0, 1)"),
                FilterRanking = Choice(values, "filterRanking", [.. Pruning.PruningNames.FilterRankings]) ?? spec.FilterRanking,
                MaskInterval = Integer(values, "maskInterval", 1, 1_000_000, "an integer >= 1") ?? spec.MaskInterval,
                RampEnd = Number(values, "rampEnd", 1e-9, 1, "a fraction of training in (0, 1]") ?? spec.RampEnd,
                Decorrelation = Number(values, "decorrelation", 0, 1e6, "a weight alpha >= 0 (0 turns the regulariser off)") ?? spec.Decorrelation,
                DecorrelationVariant = Choice(values, "decorrelationVariant", [.. Pruning.PruningNames.DecorrelationVariants]) ?? spec.DecorrelationVariant,
            };
            if (method != "unstructured" && values.TryGetValue("scope", out var scopeNode))
                Error(DiagnosticCode.InvalidSpecValue, "'scope' applies to 'method' \"unstructured\" only.", scopeNode.Location);
            if (method is not ("unstructured" or "dynamic") && values.TryGetValue("includeClassifier", out var classifierNode))
                Error(DiagnosticCode.InvalidSpecValue, "'includeClassifier' applies to 'method' \"unstructured\" or \"dynamic\" only.", classifierNode.Location);
            foreach (string key in DynamicKeys.Where(values.ContainsKey))
                if (method != "dynamic")
                    Error(DiagnosticCode.InvalidSpecValue, $"'{key}' applies to 'method' \"dynamic\" only.", values[key].Location);
            if (method == "dynamic" && result.DynamicPrune == "filter" && result.TargetSparsity is null && _errors == 0)
                Error(DiagnosticCode.InvalidSpecValue, "'dynamicPrune' \"filter\" needs 'targetSparsity' (the fraction of prunable filters masked, e.g. 0.6).",
                    (values.TryGetValue("dynamicPrune", out var variantNode) ? variantNode : values["method"]).Location);
            if (values.TryGetValue("decorrelationVariant", out var decorrelationNode) && !(result.Decorrelation > 0))
                Error(DiagnosticCode.InvalidSpecValue, "'decorrelationVariant' needs 'decorrelation' above 0 (the regulariser's weight alpha).", decorrelationNode.Location);
            foreach (string key in CriterionKeys.Where(values.ContainsKey))
                if (method is not ("unstructured" or "channel"))
                    Error(DiagnosticCode.InvalidSpecValue, $"'{key}' applies to 'method' \"unstructured\" or \"channel\" only.", values[key].Location);
            if (method == "channel" && values.ContainsKey("criterion"))
            {
                // For channels the criterion is the ranking (magnitude ranks by L2, as the command line does).
                if (values.ContainsKey("ranking"))
                    Error(DiagnosticCode.InvalidSpecValue, "'criterion' and 'ranking' both choose the channel importance; give one.", values["criterion"].Location);
                else if (result.Criterion == "random-bernoulli")
                    Error(DiagnosticCode.InvalidSpecValue, "'criterion' \"random-bernoulli\" prunes single weights; channels take magnitude, gradient or random.", values["criterion"].Location);
                else
                    result = result with { Ranking = result.Criterion == "magnitude" ? "l2" : result.Criterion };
            }
            foreach (string key in ScheduleKeys.Where(values.ContainsKey))
                if (method is not ("unstructured" or "channel"))
                    Error(DiagnosticCode.InvalidSpecValue, $"'{key}' applies to 'method' \"unstructured\" or \"channel\" only.", values[key].Location);
            foreach (string key in IterativeKeys.Where(values.ContainsKey))
                if (method is "unstructured" or "channel" && result.Schedule != "iterative")
                    Error(DiagnosticCode.InvalidSpecValue, $"'{key}' needs 'schedule' \"iterative\".", values[key].Location);
            if (spec.PruneRate == "auto" && method == "layerwise" && values.TryGetValue("pruneRate", out var autoNode))
                Error(DiagnosticCode.InvalidSpecValue, "'pruneRate' \"auto\" searches pruneRate, channelRatio or targetSparsity; 'method' \"layerwise\" takes its sparsities from 'sparsity' or 'sensitivity'.",
                    autoNode.Location, "Use targetSize with sensitivity \"auto\" for layerwise, or another method with \"auto\".");
            if (values.TryGetValue("maxTrials", out var trialsNode) && spec.PruneRate != "auto")
                Error(DiagnosticCode.InvalidSpecValue, "'maxTrials' applies to 'pruneRate' \"auto\" only.", trialsNode.Location);
            if (method == "layerwise" && sparsity is null && sensitivity is null && _errors == 0)
                Error(DiagnosticCode.InvalidSpecValue, "'method' \"layerwise\" needs 'sparsity' (an object or a JSON file of per-layer sparsities) or 'sensitivity': \"auto\" with 'targetSize'.",
                    values["method"].Location);
            return result;
        }

        private string? Choice(Dictionary<string, Node> values, string key, string[] allowed)
        {
            string? text = String(values, key);
            if (text is null) return null;
            string lower = text.Trim().ToLowerInvariant();
            if (allowed.Contains(lower, StringComparer.Ordinal)) return lower;
            string? close = Suggest(lower, allowed);
            Error(DiagnosticCode.InvalidSpecValue, $"'{key}' \"{text}\" is not one of {string.Join(", ", allowed)}" +
                (close is null ? "." : $"; did you mean \"{close}\"?"), values[key].Location);
            return null;
        }

        private bool? Boolean(Dictionary<string, Node> values, string key)
        {
            if (!values.TryGetValue(key, out var node) || node.Kind == JsonTokenType.Null) return null;
            if (node.Kind is JsonTokenType.True or JsonTokenType.False) return node.Kind == JsonTokenType.True;
            TypeError(key, "true or false", node);
            return null;
        }

        private List<string>? StringList(Dictionary<string, Node> values, string key)
        {
            if (!values.TryGetValue(key, out var node) || node.Kind == JsonTokenType.Null) return null;
            if (node.Kind != JsonTokenType.StartArray || node.Items!.Any(i => i.Kind != JsonTokenType.String))
            {
                TypeError(key, "an array of strings", node);
                return null;
            }
            return [.. node.Items!.Select(i => i.Text!)];
        }

        private Dictionary<string, double>? NumberMap(Node obj, string key, double min, double max, string expected)
        {
            var result = new Dictionary<string, double>(StringComparer.Ordinal);
            foreach (var (name, _, value) in obj.Properties!)
            {
                if (value.Kind != JsonTokenType.Number || value.Number < min || value.Number > max)
                    Error(DiagnosticCode.InvalidSpecValue, $"'{key}.{name}' {value.Raw} must be {expected}.", value.Location);
                else result[name] = value.Number;
            }
            return result;
        }

        private Dictionary<string, Node> Properties(Node obj, string prefix, string[] known)
        {
            var result = new Dictionary<string, Node>(StringComparer.Ordinal);
            foreach (var (key, keyLocation, value) in obj.Properties!)
            {
                // "$schema" points editors at build/compress.schema.json; it is not an option.
                if (prefix.Length == 0 && key == "$schema") continue;
                if (!known.Contains(key, StringComparer.Ordinal))
                {
                    string? close = Suggest(key, known);
                    diagnostics.Add(new Diagnostic(DiagnosticSeverity.Warning, DiagnosticCode.UnknownSpecKey,
                        $"Unknown key '{prefix}{key}' is ignored" + (close is null ? "." : $"; did you mean '{prefix}{close}'?"),
                        specPath, "See build/compress.schema.json for the keys.", keyLocation.Line, keyLocation.Column));
                    continue;
                }
                if (result.ContainsKey(prefix + key))
                    Error(DiagnosticCode.InvalidSpecValue, $"Key '{prefix}{key}' appears twice.", keyLocation);
                result[prefix + key] = value;
                _locations[prefix + key] = value.Location;
            }
            return result;
        }

        private string FullPath(string relative) => Path.GetFullPath(Path.Combine(_folder, relative));

        private string? String(Dictionary<string, Node> values, string key)
        {
            if (!values.TryGetValue(key, out var node) || node.Kind == JsonTokenType.Null) return null;
            if (node.Kind == JsonTokenType.String)
            {
                if (PathKeys.Contains(key) && node.Text!.Any(char.IsControl))
                {
                    // NUL and other control characters make no usable path on any system (and .NET refuses NUL).
                    Error(DiagnosticCode.InvalidSpecValue, $"'{key}' {node.Raw} holds a control character; it cannot name a file or folder.",
                        node.Location, "Write the path without control characters (\\u0000-\\u001f).");
                    return null;
                }
                return node.Text;
            }
            TypeError(key, "a string", node);
            return null;
        }

        private NormalizationChoice? NormalizeValue(Dictionary<string, Node> values)
        {
            string? text = String(values, "normalize");
            if (text is null) return null;
            try
            {
                return NormalizationChoice.Parse(text, "'normalize'");
            }
            catch (CompressException e)
            {
                Error(DiagnosticCode.InvalidSpecValue, e.Message, values["normalize"].Location, e.Hint);
                return null;
            }
        }

        /// <summary>A built-in architecture's canonical name, or an ONNX file's full path (relative to the spec).</summary>
        private string? Architecture(string text, SpecLocation location)
        {
            if (Models.Onnx.OnnxImporter.IsOnnxPath(text))
            {
                string full = FullPath(text.Trim());
                if (!File.Exists(full))
                    Error(DiagnosticCode.FileNotFound, $"'model': the ONNX file '{full}' does not exist.", location,
                        "Paths in a spec are relative to the spec file's folder.");
                return full;
            }
            if (ModelFactory.Architectures.Contains(text, StringComparer.OrdinalIgnoreCase)) return text.ToLowerInvariant();
            string? close = Suggest(text, ModelFactory.Architectures);
            Error(DiagnosticCode.UnknownArchitecture, $"Unknown architecture '{text}'" + (close is null ? "." : $"; did you mean '{close}'?"),
                location, $"Use one of: {string.Join(", ", ModelFactory.Architectures)}, or the path of an .onnx file (relative to the spec).");
            return null;
        }

        private string? ExistingPath(Dictionary<string, Node> values, string key, bool isFolder)
        {
            string? text = String(values, key);
            if (text is null) return null;
            string full = FullPath(text);
            if (!(isFolder ? Directory.Exists(full) : File.Exists(full)))
                Error(DiagnosticCode.FileNotFound, $"'{key}': the file '{full}' does not exist.", values[key].Location,
                    "Paths in a spec are relative to the spec file's folder; omit 'weights' to train a baseline.");
            return full;
        }

        private string DataSource(Dictionary<string, Node> values)
        {
            string? text = String(values, "data");
            if (text is null || text.Equals("synthetic", StringComparison.OrdinalIgnoreCase)) return "synthetic";
            string full = FullPath(text);
            if (!Directory.Exists(full))
                Error(DiagnosticCode.DatasetNotFound, $"'data': the dataset folder '{full}' does not exist.", values["data"].Location,
                    "Use \"synthetic\" or a folder (relative to the spec file) with CIFAR-10 binary, MNIST IDX or class sub-folders.");
            return full;
        }

        private string RateValue(Dictionary<string, Node> values)
        {
            if (!values.TryGetValue("pruneRate", out var node) || node.Kind == JsonTokenType.Null) return "safe";
            const string hint = "Use a number in [0, 1], \"knee\", \"safe\" or \"auto\".";
            if (node.Kind == JsonTokenType.Number)
            {
                if (node.Number is >= 0 and <= 1) return node.Number.ToString("R", CultureInfo.InvariantCulture);
                Error(DiagnosticCode.InvalidRate, $"'pruneRate' {node.Raw} is outside [0, 1].", node.Location, hint);
                return "safe";
            }
            if (node.Kind == JsonTokenType.String && node.Text!.Trim().ToLowerInvariant() is "knee" or "safe" or "auto")
                return node.Text.Trim().ToLowerInvariant();
            Error(DiagnosticCode.InvalidRate, $"'pruneRate' {node.Raw} is not a number in [0, 1], \"knee\", \"safe\" or \"auto\".", node.Location, hint);
            return "safe";
        }

        private string DeviceValue(Dictionary<string, Node> values)
        {
            string? text = String(values, "device");
            if (text is null) return "cpu";
            string lower = text.Trim().ToLowerInvariant();
            if (lower is "cpu" or "cuda" or "auto") return lower;
            Error(DiagnosticCode.InvalidSpecValue, $"'device' \"{text}\" is not cpu, cuda or auto.", values["device"].Location,
                "Use \"cpu\", \"cuda\" or \"auto\".");
            return "cpu";
        }

        private double? Number(Dictionary<string, Node> values, string key, double min, double max, string expected,
            string code = DiagnosticCode.InvalidSpecValue)
        {
            if (!values.TryGetValue(key, out var node) || node.Kind == JsonTokenType.Null) return null;
            if (node.Kind != JsonTokenType.Number) { TypeError(key, expected, node, code); return null; }
            if (node.Number >= min && node.Number <= max) return node.Number;
            Error(code, $"'{key}' {node.Raw} is out of range: expected {expected}.", node.Location);
            return null;
        }

        private int? Integer(Dictionary<string, Node> values, string key, int min, int max, string expected,
            string code = DiagnosticCode.InvalidSpecValue)
        {
            if (!values.TryGetValue(key, out var node) || node.Kind == JsonTokenType.Null) return null;
            if (node.Kind != JsonTokenType.Number || node.Integer is null) { TypeError(key, expected, node, code); return null; }
            int value = node.Integer.Value;
            if (value >= min && value <= max) return value;
            Error(code, $"'{key}' {node.Raw} is out of range: expected {expected}.", node.Location);
            return null;
        }

        private void TypeError(string key, string expected, Node node, string code = DiagnosticCode.InvalidSpecValue) =>
            Error(code, $"'{key}' must be {expected} (got {node.Raw}).", node.Location);

        private void Error(string code, string message, SpecLocation at, string? hint = null)
        {
            _errors++;
            diagnostics.Add(Diagnostic.Error(code, message, specPath, hint ?? "See build/compress.schema.json.", at.Line, at.Column));
        }
    }

    /// <summary>A JSON value with the position of its first character.</summary>
    private sealed class Node
    {
        public JsonTokenType Kind { get; private init; }
        public SpecLocation Location { get; private init; }
        public string? Text { get; private init; }
        public double Number { get; private init; }
        public int? Integer { get; private init; }
        /// <summary>The value as written (strings quoted, containers abbreviated), for messages.</summary>
        public string Raw { get; private init; } = "";
        public List<(string Key, SpecLocation KeyLocation, Node Value)>? Properties { get; private init; }
        public List<Node>? Items { get; private init; }

        public static Node Read(ReadOnlySpan<byte> utf8)
        {
            var lines = new Lines(utf8);
            var reader = new Utf8JsonReader(utf8, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
            if (!reader.Read()) throw new JsonException("The file is empty.", null, 0, 0);
            var node = ReadValue(ref reader, lines);
            if (reader.Read()) throw new JsonException("Unexpected content after the top-level value.", null, 0, 0);
            return node;
        }

        private static Node ReadValue(ref Utf8JsonReader reader, Lines lines)
        {
            var at = lines.Locate(reader.TokenStartIndex);
            switch (reader.TokenType)
            {
                case JsonTokenType.StartObject:
                    var properties = new List<(string, SpecLocation, Node)>();
                    while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                    {
                        string key = reader.GetString()!;
                        var keyAt = lines.Locate(reader.TokenStartIndex);
                        reader.Read();
                        properties.Add((key, keyAt, ReadValue(ref reader, lines)));
                    }
                    return new Node { Kind = JsonTokenType.StartObject, Location = at, Properties = properties, Raw = "an object" };
                case JsonTokenType.StartArray:
                    var items = new List<Node>();
                    while (reader.Read() && reader.TokenType != JsonTokenType.EndArray) items.Add(ReadValue(ref reader, lines));
                    return new Node { Kind = JsonTokenType.StartArray, Location = at, Items = items, Raw = "an array" };
                case JsonTokenType.String:
                    string text = reader.GetString()!;
                    return new Node { Kind = JsonTokenType.String, Location = at, Text = text, Raw = $"\"{text}\"" };
                case JsonTokenType.Number:
                    return new Node
                    {
                        Kind = JsonTokenType.Number, Location = at, Number = reader.GetDouble(),
                        Integer = reader.TryGetInt32(out int i) ? i : null,
                        Raw = System.Text.Encoding.UTF8.GetString(reader.ValueSpan),
                    };
                default:
                    return new Node
                    {
                        Kind = reader.TokenType, Location = at,
                        Raw = reader.TokenType switch { JsonTokenType.True => "true", JsonTokenType.False => "false", _ => "null" },
                    };
            }
        }
    }

    /// <summary>Maps a byte offset to a 1-based line and a 1-based column counted in characters (code points).</summary>
    private sealed class Lines
    {
        private readonly byte[] _bytes;

        public Lines(ReadOnlySpan<byte> utf8) => _bytes = utf8.ToArray();

        public SpecLocation Locate(long offset)
        {
            int line = 1, column = 1;
            for (long i = 0; i < offset && i < _bytes.Length; i++)
            {
                byte b = _bytes[i];
                if (b == (byte)'\n') { line++; column = 1; }
                else if ((b & 0xC0) != 0x80) column++;
            }
            return new SpecLocation(line, column);
        }
    }
}

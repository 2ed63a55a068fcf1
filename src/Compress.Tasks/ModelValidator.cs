using System.Globalization;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace Compress.Tasks;

/// <summary>
/// Checks every CompressModel item and reports every problem at once (not just the first), so one build shows the
/// user the whole list; returns the parsed requests only when nothing was wrong.
/// </summary>
internal sealed class ModelValidator
{
    /// <summary>The metadata names the task reads, in the spelling the docs use.</summary>
    internal static readonly string[] KnownMetadata =
    [
        "Architecture", "WidthMultiplier", "Classes", "Data", "PruneRate", "FineTuneEpochs", "MinAccuracy",
        "MaxAccuracyDrop", "Device", "Seed", "Threads", "MemoryFormat", "Precision", "Name", "Method", "ChannelRatio", "Ranking", "IgnoredLayers",
        "Sparsity", "Sensitivity", "TargetSize", "Normalize", "EmbedPreprocessing", "Criterion", "Scope", "IncludeClassifier",
        "GradientImages", "Schedule", "Steps", "ScheduleShape", "EpochsBetween", "DynamicPrune", "TargetSparsity", "MaskInterval",
        "RampEnd", "Decorrelation", "DecorrelationVariant", "FilterRanking", "MaxTrials", "MaxRelativeAccuracyDrop", "MaxBytes",
        "MinSpeedup",
    ];

    private static readonly string[] IgnoredMetadata = ["Link", "Visible"];
    private static readonly string[] WeightsExtensions = [".safetensors", ".pt", ".pth"];
    private static readonly string[] Devices = ["cpu", "cuda", "auto"];

    private readonly TaskLoggingHelper _log;
    private readonly string _projectFile;
    private readonly bool _reportWarnings;
    private bool _failed;

    public ModelValidator(TaskLoggingHelper log, string projectFile, bool reportWarnings = true)
    {
        _log = log;
        _projectFile = projectFile;
        _reportWarnings = reportWarnings;
    }

    /// <summary>Project-wide defaults (task parameters), already validated by <see cref="ValidateDefaults"/>.</summary>
    public ModelRequest Defaults { get; } = new();

    /// <summary>Validates the task-level defaults; empty strings mean "not set".</summary>
    public void ValidateDefaults(string? device, string? seed, string? minAccuracy, string? maxAccuracyDrop)
    {
        Defaults.Device = ParseDevice(device, "the CompressDevice property");
        Defaults.Seed = ParseInt(seed, "the CompressSeed property", int.MinValue);
        Defaults.MinAccuracy = ParsePercent(minAccuracy, "the CompressMinAccuracy property");
        Defaults.MaxAccuracyDrop = ParsePercent(maxAccuracyDrop, "the CompressMaxAccuracyDrop property");
    }

    /// <summary>Validates all items; null when any error was reported.</summary>
    public IReadOnlyList<ModelRequest>? Validate(ITaskItem[] items)
    {
        var requests = new List<ModelRequest>();
        var names = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var item in items)
        {
            var request = ValidateItem(item);
            if (names.TryGetValue(request.Name, out var other))
            {
                Error(TaskDiagnosticCode.DuplicateModelName,
                    $"CompressModel items '{other}' and '{item.ItemSpec}' both have the Name '{request.Name}', so they would write the same {request.Name}.onnx. Give one of them a different Name metadata.");
            }
            else
            {
                names[request.Name] = item.ItemSpec;
            }
            requests.Add(request);
        }
        return _failed ? null : requests;
    }

    private ModelRequest ValidateItem(ITaskItem item)
    {
        var where = $"CompressModel '{item.ItemSpec}'";
        WarnUnknownMetadata(item, where);

        var fullPath = item.GetMetadata("FullPath");
        var extension = Path.GetExtension(fullPath).ToLowerInvariant();
        var isSpec = extension == ".json";
        var isOnnx = extension == ".onnx";
        var isWeights = Array.IndexOf(WeightsExtensions, extension) >= 0;
        if (!isSpec && !isWeights && !isOnnx)
        {
            Error(TaskDiagnosticCode.UnsupportedModelFile,
                $"{where} is not an ONNX model (.onnx), a weights file (.safetensors, .pt, .pth) or a spec (.json). Point the item at one of those.");
        }
        else if (!File.Exists(fullPath))
        {
            Error(TaskDiagnosticCode.InputNotFound, $"{where}: the file '{fullPath}' does not exist. Check the Include path.");
        }

        var name = Text(item, "Name") ?? Path.GetFileNameWithoutExtension(fullPath);
        if (name.Length == 0 || name.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0 || name.IndexOfAny(['/', '\\', ':']) >= 0)
        {
            Error(TaskDiagnosticCode.InvalidMetadataValue,
                $"{where}: Name '{name}' cannot be a file name. Use letters, digits, '-', '_' or '.'.");
        }

        if (isSpec)
        {
            WarnIgnoredOnSpec(item, where);
        }

        var request = new ModelRequest { ItemSpec = item.ItemSpec, InputPath = fullPath, IsSpec = isSpec, IsOnnx = isOnnx, Name = name };
        request.Architecture = Text(item, "Architecture");
        if (isOnnx)
        {
            foreach (var ignored in new[] { "Architecture", "WidthMultiplier", "Classes" })
            {
                if (_reportWarnings && Text(item, ignored) is not null)
                {
                    _log.LogWarning(null, TaskDiagnosticCode.UnknownMetadata, null, _projectFile, 0, 0, 0, 0,
                        $"{where}: {ignored} metadata is ignored for an ONNX model (the architecture, widths and classes come from the file).");
                }
            }
            request.Architecture = null;
        }
        if (isWeights && request.Architecture is null)
        {
            Error(TaskDiagnosticCode.InvalidMetadataValue,
                $"{where}: Architecture metadata is required for a weights file. Set it to a name `compress models` lists, e.g. Architecture=\"resnet18-cifar\".");
        }
        request.WidthMultiplier = isOnnx ? null : ParseDouble(Text(item, "WidthMultiplier"), $"{where}: WidthMultiplier", 0, double.MaxValue, "a number > 0", exclusiveMin: true);
        request.Classes = isOnnx ? null : ParseInt(Text(item, "Classes"), $"{where}: Classes", 2);
        request.Data = ParseData(item, where);
        ParseRate(Text(item, "PruneRate"), where, request);
        request.FineTuneEpochs = ParseInt(Text(item, "FineTuneEpochs"), $"{where}: FineTuneEpochs", 0);
        request.MinAccuracy = ParsePercent(Text(item, "MinAccuracy"), $"{where}: MinAccuracy") ?? Defaults.MinAccuracy;
        request.MaxAccuracyDrop = ParsePercent(Text(item, "MaxAccuracyDrop"), $"{where}: MaxAccuracyDrop") ?? Defaults.MaxAccuracyDrop;
        request.MaxRelativeAccuracyDrop = ParsePercent(Text(item, "MaxRelativeAccuracyDrop"), $"{where}: MaxRelativeAccuracyDrop");
        request.MaxBytes = ParseDouble(Text(item, "MaxBytes"), $"{where}: MaxBytes", 1, 1e15, "a number of bytes >= 1") is { } maxBytes ? (long)Math.Floor(maxBytes) : null;
        request.MinSpeedup = ParseDouble(Text(item, "MinSpeedup"), $"{where}: MinSpeedup", 0.01, 1000, "a speedup factor in [0.01, 1000], e.g. 1.2");
        request.MaxTrials = ParseInt(Text(item, "MaxTrials"), $"{where}: MaxTrials", 1);
        request.Device = ParseDevice(Text(item, "Device"), $"{where}: Device") ?? Defaults.Device;
        request.Seed = ParseInt(Text(item, "Seed"), $"{where}: Seed", int.MinValue) ?? Defaults.Seed;
        request.Threads = ParseInt(Text(item, "Threads"), $"{where}: Threads", 1);
        request.Method = ParseChoice(Text(item, "Method"), $"{where}: Method", Shared.PruningChoices.Methods);
        ParseChannelRatio(Text(item, "ChannelRatio"), where, request);
        request.Ranking = ParseChoice(Text(item, "Ranking"), $"{where}: Ranking", Shared.PruningChoices.Rankings);
        request.Criterion = ParseChoice(Text(item, "Criterion"), $"{where}: Criterion", Shared.PruningChoices.Criteria);
        request.Scope = ParseChoice(Text(item, "Scope"), $"{where}: Scope", Shared.PruningChoices.Scopes);
        request.IncludeClassifier = ParseBool(Text(item, "IncludeClassifier"), $"{where}: IncludeClassifier");
        request.GradientImages = ParseInt(Text(item, "GradientImages"), $"{where}: GradientImages", 1);
        request.Schedule = ParseChoice(Text(item, "Schedule"), $"{where}: Schedule", Shared.PruningChoices.Schedules);
        request.Steps = ParseInt(Text(item, "Steps"), $"{where}: Steps", 1);
        request.ScheduleShape = ParseChoice(Text(item, "ScheduleShape"), $"{where}: ScheduleShape", Shared.PruningChoices.ScheduleShapes);
        request.EpochsBetween = ParseInt(Text(item, "EpochsBetween"), $"{where}: EpochsBetween", 0);
        request.DynamicPrune = ParseChoice(Text(item, "DynamicPrune"), $"{where}: DynamicPrune", Shared.PruningChoices.DynamicVariants);
        request.TargetSparsity = ParseDouble(Text(item, "TargetSparsity"), $"{where}: TargetSparsity", 0, 0.999999, "a fraction in [0, 1)");
        request.FilterRanking = ParseChoice(Text(item, "FilterRanking"), $"{where}: FilterRanking", Shared.PruningChoices.FilterRankings);
        request.MaskInterval = ParseInt(Text(item, "MaskInterval"), $"{where}: MaskInterval", 1);
        request.RampEnd = ParseDouble(Text(item, "RampEnd"), $"{where}: RampEnd", 0, 1, "a fraction of training in (0, 1]", exclusiveMin: true);
        request.Decorrelation = ParseDouble(Text(item, "Decorrelation"), $"{where}: Decorrelation", 0, 1e6, "a weight alpha >= 0");
        request.DecorrelationVariant = ParseChoice(Text(item, "DecorrelationVariant"), $"{where}: DecorrelationVariant", Shared.PruningChoices.DecorrelationVariants);
        request.MemoryFormat = ParseChoice(Text(item, "MemoryFormat"), $"{where}: MemoryFormat", Shared.PruningChoices.MemoryFormats);
        request.Precision = ParseChoice(Text(item, "Precision"), $"{where}: Precision", Shared.PruningChoices.Precisions);
        request.IgnoredLayers = Text(item, "IgnoredLayers")?.Split([';', ','], StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Trim()).Where(l => l.Length > 0).ToList();
        request.Sparsity = ParseFile(Text(item, "Sparsity"), where, "Sparsity");
        request.Sensitivity = ParseChoice(Text(item, "Sensitivity"), $"{where}: Sensitivity", "auto");
        request.Normalize = Text(item, "Normalize"); // the engine validates the spelling (CMP0622 at the spec line)
        request.EmbedPreprocessing = ParseBool(Text(item, "EmbedPreprocessing"), $"{where}: EmbedPreprocessing");
        request.TargetSize = ParseDouble(Text(item, "TargetSize"), $"{where}: TargetSize", 0, 1, "a fraction in (0, 1] of the parameters to keep", exclusiveMin: true);
        if (request.Method == "layerwise" && request.Sparsity is null && request.Sensitivity is null)
        {
            Error(TaskDiagnosticCode.InvalidMetadataValue,
                $"{where}: Method=\"layerwise\" needs Sparsity (a JSON file of per-layer sparsities) or Sensitivity=\"auto\" with TargetSize.");
        }
        return request;
    }

    private string? ParseChoice(string? value, string what, params string[] allowed)
    {
        if (value is null)
        {
            return null;
        }
        var lower = value.ToLowerInvariant();
        if (allowed.Contains(lower))
        {
            return lower;
        }
        Error(TaskDiagnosticCode.InvalidMetadataValue, $"{what} is '{value}'; it must be {string.Join(", ", allowed)}.");
        return null;
    }

    /// <summary>A number (uniform ratio) or <c>layer=ratio;layer=ratio</c> (per-layer ratios), each in [0, 1).</summary>
    private void ParseChannelRatio(string? value, string where, ModelRequest request)
    {
        if (value is null)
        {
            return;
        }
        if (!value.Contains('='))
        {
            request.ChannelRatio = ParseDouble(value, $"{where}: ChannelRatio", 0, 0.999999, "a ratio in [0, 1) or 'layer=ratio;layer=ratio'");
            return;
        }
        var ratios = new List<KeyValuePair<string, double>>();
        foreach (var part in value.Split([';'], StringSplitOptions.RemoveEmptyEntries))
        {
            var pair = part.Split('=');
            var ratio = pair.Length == 2 && pair[0].Trim().Length > 0
                ? ParseDouble(pair[1].Trim(), $"{where}: ChannelRatio of '{pair[0].Trim()}'", 0, 0.999999, "a ratio in [0, 1)")
                : null;
            if (pair.Length != 2 || pair[0].Trim().Length == 0)
            {
                Error(TaskDiagnosticCode.InvalidMetadataValue, $"{where}: ChannelRatio part '{part}' is not 'layer=ratio'.");
            }
            else if (ratio is { } r)
            {
                ratios.Add(new KeyValuePair<string, double>(pair[0].Trim(), r));
            }
        }
        request.ChannelLayerRatios = ratios;
    }

    /// <summary>A path as written in the project: absolute as is, relative against the project's folder.</summary>
    private string ProjectPath(string path)
    {
        var baseDirectory = Path.GetDirectoryName(_projectFile) ?? string.Empty;
        return Path.GetFullPath(Path.IsPathRooted(path) || baseDirectory.Length == 0 ? path : Path.Combine(baseDirectory, path));
    }

    private string? ParseFile(string? value, string where, string what)
    {
        if (value is null)
        {
            return null;
        }
        var full = ProjectPath(value);
        if (!File.Exists(full))
        {
            Error(TaskDiagnosticCode.InputNotFound, $"{where}: {what} '{value}' does not exist (looked for '{full}').");
        }
        return full;
    }

    private void WarnUnknownMetadata(ITaskItem item, string where)
    {
        if (!_reportWarnings)
        {
            return;
        }
        foreach (var key in item.CloneCustomMetadata().Keys.Cast<string>().OrderBy(k => k, StringComparer.Ordinal))
        {
            // "_x" is private by MSBuild convention (the targets add _CompressName ...); Link and Visible are IDE hints.
            if (KnownMetadata.Contains(key, StringComparer.OrdinalIgnoreCase) || key.StartsWith("_", StringComparison.Ordinal)
                || IgnoredMetadata.Contains(key, StringComparer.OrdinalIgnoreCase))
            {
                continue;
            }
            var suggestion = Suggest(key);
            _log.LogWarning(null, TaskDiagnosticCode.UnknownMetadata, null, _projectFile, 0, 0, 0, 0,
                $"{where} has unknown metadata '{key}'; it is ignored."
                + (suggestion is null ? $" Known: {string.Join(", ", KnownMetadata)}." : $" Did you mean '{suggestion}'?"));
        }
    }

    // A spec item runs as written: metadata other than Name (which names the outputs the targets track) would be
    // silently ignored, so say so.
    private void WarnIgnoredOnSpec(ITaskItem item, string where)
    {
        if (!_reportWarnings)
        {
            return;
        }
        foreach (var key in KnownMetadata)
        {
            if (key != "Name" && item.GetMetadata(key).Trim().Length > 0)
            {
                _log.LogWarning(null, TaskDiagnosticCode.UnknownMetadata, null, _projectFile, 0, 0, 0, 0,
                    $"{where} is a spec; its {key} metadata is ignored. Set \"{char.ToLowerInvariant(key[0])}{key.Substring(1)}\" in the spec instead.");
            }
        }
    }

    /// <summary>The known name closest to <paramref name="key"/> (case-insensitive edit distance at most 3), or null.</summary>
    internal static string? Suggest(string key) =>
        Shared.NameSuggestions.Closest(key, KnownMetadata, Math.Max(1, Math.Min(3, key.Length / 3)));

    private string? ParseData(ITaskItem item, string where)
    {
        var data = Text(item, "Data");
        if (data is null || string.Equals(data, "synthetic", StringComparison.OrdinalIgnoreCase))
        {
            return data?.ToLowerInvariant();
        }
        var full = ProjectPath(data);
        if (!Directory.Exists(full) && !File.Exists(full))
        {
            Error(TaskDiagnosticCode.InputNotFound,
                $"{where}: Data '{data}' does not exist (looked for '{full}'). Point Data at a dataset folder or use Data=\"synthetic\".");
        }
        return full;
    }

    private void ParseRate(string? value, string where, ModelRequest request)
    {
        if (value is null)
        {
            return;
        }
        var lower = value.ToLowerInvariant();
        if (lower is "knee" or "safe" or "auto")
        {
            request.PruneRateKeyword = lower;
            return;
        }
        request.PruneRate = ParseDouble(value, $"{where}: PruneRate", 0, 1, "a number in [0, 1], 'knee', 'safe' or 'auto'");
    }

    private string? ParseDevice(string? value, string what)
    {
        if (value is null)
        {
            return null;
        }
        var lower = value.ToLowerInvariant();
        if (Array.IndexOf(Devices, lower) < 0)
        {
            Error(TaskDiagnosticCode.InvalidMetadataValue, $"{what} is '{value}'; it must be cpu, cuda or auto.");
            return null;
        }
        return lower;
    }

    private double? ParsePercent(string? value, string what) =>
        ParseDouble(value, what, 0, 100, "a percentage in [0, 100]");

    private double? ParseDouble(string? value, string what, double min, double max, string expected, bool exclusiveMin = false)
    {
        if (value is null)
        {
            return null;
        }
        if (!double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number)
            || double.IsNaN(number) || double.IsInfinity(number)
            || number < min || (exclusiveMin && number <= min) || number > max)
        {
            Error(TaskDiagnosticCode.InvalidMetadataValue, $"{what} is '{value}'; it must be {expected}.");
            return null;
        }
        return number;
    }

    private int? ParseInt(string? value, string what, int min)
    {
        if (value is null)
        {
            return null;
        }
        if (!int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var number) || number < min)
        {
            var expected = min == int.MinValue ? "an integer" : $"an integer >= {min.ToString(CultureInfo.InvariantCulture)}";
            Error(TaskDiagnosticCode.InvalidMetadataValue, $"{what} is '{value}'; it must be {expected}.");
            return null;
        }
        return number;
    }

    private bool? ParseBool(string? value, string what)
    {
        if (value is null)
        {
            return null;
        }
        if (!bool.TryParse(value, out var result))
        {
            Error(TaskDiagnosticCode.InvalidMetadataValue, $"{what} is '{value}'; it must be true or false.");
            return null;
        }
        return result;
    }

    private static string? Text(ITaskItem item, string name)
    {
        var value = item.GetMetadata(name).Trim();
        return value.Length == 0 ? null : value;
    }

    private void Error(string code, string message)
    {
        _failed = true;
        _log.LogError(null, code, null, _projectFile, 0, 0, 0, 0, message);
    }
}

using System.Globalization;
using System.Text;

namespace Compress.Tasks;

/// <summary>
/// Writes the engine's spec JSON for a weights item. Hand-written (netstandard2.0 has no System.Text.Json, and a
/// package would have to ship inside the task folder): a flat object with a fixed key order, so the same item always
/// gives the same bytes and the file is only rewritten when something changed.
/// </summary>
internal static class SpecJson
{
    /// <summary>The spec text for <paramref name="model"/>; keys left unset are omitted (the engine's defaults apply).</summary>
    public static string Write(ModelRequest model, string outputDirectory, string intermediateDirectory)
    {
        var json = new StringBuilder();
        json.Append("{\n");
        var first = true;
        void Key(string key, string rawValue)
        {
            if (!first)
            {
                json.Append(",\n");
            }
            first = false;
            json.Append("  ").Append(Quote(key)).Append(": ").Append(rawValue);
        }

        Key("name", Quote(model.Name));
        if (model.IsOnnx)
        {
            // An ONNX model is the model and brings its weights.
            Key("model", Quote(model.InputPath));
        }
        else
        {
            var modelObject = new StringBuilder("{ ");
            modelObject.Append("\"architecture\": ").Append(Quote(model.Architecture ?? string.Empty));
            if (model.WidthMultiplier is { } width)
            {
                modelObject.Append(", \"widthMultiplier\": ").Append(Number(width));
            }
            if (model.Classes is { } classes)
            {
                modelObject.Append(", \"classes\": ").Append(classes.ToString(CultureInfo.InvariantCulture));
            }
            modelObject.Append(" }");
            Key("model", modelObject.ToString());
            Key("weights", Quote(model.InputPath));
        }
        if (model.Data is { } data)
        {
            Key("data", Quote(data));
        }
        if (model.Normalize is { } normalize)
        {
            Key("normalize", Quote(normalize));
        }
        if (model.EmbedPreprocessing is { } embed)
        {
            Key("embedPreprocessing", embed ? "true" : "false");
        }
        if (model.PruneRateKeyword is { } keyword)
        {
            Key("pruneRate", Quote(keyword));
        }
        else if (model.PruneRate is { } rate)
        {
            Key("pruneRate", Number(rate));
        }
        if (model.FineTuneEpochs is { } epochs)
        {
            Key("fineTuneEpochs", epochs.ToString(CultureInfo.InvariantCulture));
        }
        if (model.MinAccuracy is { } minAccuracy)
        {
            Key("minAccuracy", Number(minAccuracy));
        }
        if (model.MaxAccuracyDrop is { } maxDrop)
        {
            Key("maxAccuracyDrop", Number(maxDrop));
        }
        if (model.MaxRelativeAccuracyDrop is { } maxRelativeDrop)
        {
            Key("maxRelativeAccuracyDrop", Number(maxRelativeDrop));
        }
        if (model.MaxBytes is { } maxBytes)
        {
            Key("maxBytes", maxBytes.ToString(CultureInfo.InvariantCulture));
        }
        if (model.MinSpeedup is { } minSpeedup)
        {
            Key("minSpeedup", Number(minSpeedup));
        }
        if (model.MaxTrials is { } maxTrials)
        {
            Key("maxTrials", maxTrials.ToString(CultureInfo.InvariantCulture));
        }
        if (model.Device is { } device)
        {
            Key("device", Quote(device));
        }
        if (model.Seed is { } seed)
        {
            Key("seed", seed.ToString(CultureInfo.InvariantCulture));
        }
        if (model.Threads is { } threads)
        {
            Key("threads", threads.ToString(CultureInfo.InvariantCulture));
        }
        if (model.MemoryFormat is { } memoryFormat)
        {
            Key("memoryFormat", Quote(memoryFormat));
        }
        if (model.Precision is { } precision)
        {
            Key("precision", Quote(precision));
        }
        if (model.Method is { } method)
        {
            Key("method", Quote(method));
        }
        if (model.Criterion is { } criterion)
        {
            Key("criterion", Quote(criterion));
        }
        if (model.Scope is { } scope)
        {
            Key("scope", Quote(scope));
        }
        if (model.IncludeClassifier is { } includeClassifier)
        {
            Key("includeClassifier", includeClassifier ? "true" : "false");
        }
        if (model.GradientImages is { } gradientImages)
        {
            Key("gradientImages", gradientImages.ToString(CultureInfo.InvariantCulture));
        }
        if (model.Schedule is { } schedule)
        {
            Key("schedule", Quote(schedule));
        }
        if (model.Steps is { } steps)
        {
            Key("steps", steps.ToString(CultureInfo.InvariantCulture));
        }
        if (model.ScheduleShape is { } scheduleShape)
        {
            Key("scheduleShape", Quote(scheduleShape));
        }
        if (model.EpochsBetween is { } epochsBetween)
        {
            Key("epochsBetween", epochsBetween.ToString(CultureInfo.InvariantCulture));
        }
        if (model.DynamicPrune is { } dynamicPrune)
        {
            Key("dynamicPrune", Quote(dynamicPrune));
        }
        if (model.TargetSparsity is { } targetSparsity)
        {
            Key("targetSparsity", Number(targetSparsity));
        }
        if (model.FilterRanking is { } filterRanking)
        {
            Key("filterRanking", Quote(filterRanking));
        }
        if (model.MaskInterval is { } maskInterval)
        {
            Key("maskInterval", maskInterval.ToString(CultureInfo.InvariantCulture));
        }
        if (model.RampEnd is { } rampEnd)
        {
            Key("rampEnd", Number(rampEnd));
        }
        if (model.Decorrelation is { } decorrelation)
        {
            Key("decorrelation", Number(decorrelation));
        }
        if (model.DecorrelationVariant is { } decorrelationVariant)
        {
            Key("decorrelationVariant", Quote(decorrelationVariant));
        }
        if (model.ChannelLayerRatios is { } layerRatios)
        {
            Key("channelRatio", "{ " + string.Join(", ", layerRatios.Select(r => Quote(r.Key) + ": " + Number(r.Value))) + " }");
        }
        else if (model.ChannelRatio is { } channelRatio)
        {
            Key("channelRatio", Number(channelRatio));
        }
        if (model.Ranking is { } ranking)
        {
            Key("ranking", Quote(ranking));
        }
        if (model.IgnoredLayers is { } ignored)
        {
            Key("ignoredLayers", "[" + string.Join(", ", ignored.Select(Quote)) + "]");
        }
        if (model.Sparsity is { } sparsity)
        {
            Key("sparsity", Quote(sparsity));
        }
        if (model.Sensitivity is { } sensitivity)
        {
            Key("sensitivity", Quote(sensitivity));
        }
        if (model.TargetSize is { } targetSize)
        {
            Key("targetSize", Number(targetSize));
        }
        Key("outputDirectory", Quote(outputDirectory));
        Key("intermediateDirectory", Quote(intermediateDirectory));
        json.Append("\n}\n");
        return json.ToString();
    }

    /// <summary>A JSON string literal (RFC 8259 escapes).</summary>
    public static string Quote(string value)
    {
        var text = new StringBuilder(value.Length + 2);
        text.Append('"');
        foreach (var c in value)
        {
            switch (c)
            {
                case '"': text.Append("\\\""); break;
                case '\\': text.Append("\\\\"); break;
                case '\n': text.Append("\\n"); break;
                case '\r': text.Append("\\r"); break;
                case '\t': text.Append("\\t"); break;
                default:
                    if (c < ' ')
                    {
                        text.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    }
                    else
                    {
                        text.Append(c);
                    }
                    break;
            }
        }
        return text.Append('"').ToString();
    }

    // "R" round-trips doubles on every framework the task runs on.
    private static string Number(double value) => value.ToString("R", CultureInfo.InvariantCulture);
}

namespace Compress.Tasks;

/// <summary>One CompressModel item after validation: absolute paths and parsed values, ready to become a spec.</summary>
internal sealed class ModelRequest
{
    /// <summary>The item as written in the project (for messages).</summary>
    public string ItemSpec { get; set; } = string.Empty;
    /// <summary>Absolute path of the weights file or the spec.</summary>
    public string InputPath { get; set; } = string.Empty;
    /// <summary>True when the item is a spec (.json) that is passed through unchanged.</summary>
    public bool IsSpec { get; set; }
    /// <summary>Output name (outputs are &lt;Name&gt;.onnx and &lt;Name&gt;.report.json).</summary>
    public string Name { get; set; } = string.Empty;
    /// <summary>Architecture name as the engine knows it; the engine validates the name itself.</summary>
    public string? Architecture { get; set; }
    /// <summary>Width multiplier, or null for the engine's default.</summary>
    public double? WidthMultiplier { get; set; }
    /// <summary>Class count, or null.</summary>
    public int? Classes { get; set; }
    /// <summary>Absolute data folder or file, "synthetic", or null.</summary>
    public string? Data { get; set; }
    /// <summary>Prune rate as a number, or null when <see cref="PruneRateKeyword"/> is set or neither is.</summary>
    public double? PruneRate { get; set; }
    /// <summary>"knee" or "safe", or null.</summary>
    public string? PruneRateKeyword { get; set; }
    /// <summary>Fine-tuning epochs, or null.</summary>
    public int? FineTuneEpochs { get; set; }
    /// <summary>Minimum accuracy in percent, or null.</summary>
    public double? MinAccuracy { get; set; }
    /// <summary>Largest accepted accuracy drop in percentage points, or null.</summary>
    public double? MaxAccuracyDrop { get; set; }
    /// <summary>cpu, cuda or auto, or null.</summary>
    public string? Device { get; set; }
    /// <summary>Seed, or null.</summary>
    public int? Seed { get; set; }
    /// <summary>Thread count, or null.</summary>
    public int? Threads { get; set; }
}

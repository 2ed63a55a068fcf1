using System.Text.Json;

namespace Compress.Engine.Tests.Pruning.Channels;

/// <summary>The PyTorch references in tests/fixtures/channel-pruning (see make_channel_pruning.py there).</summary>
internal static class ChannelPruningFixtures
{
    public static string Folder => Path.Combine(AppContext.BaseDirectory, "fixtures", "channel-pruning");

    private static readonly JsonSerializerOptions JsonOptions = new() { PropertyNameCaseInsensitive = true };

    private static readonly Lazy<Dictionary<string, Case>> All = new(Load);

    public static Case Get(string name) => All.Value[name];

    /// <param name="Name">Case name (JSON "case").</param>
    /// <param name="Fixture">The ../models fixture the case starts from.</param>
    /// <param name="Ratios">The per-layer ratio list, when the case uses one.</param>
    /// <param name="StateDictKeys">Pruned state-dict keys.</param>
    /// <param name="StateDictShapes">Their shapes.</param>
    /// <param name="Logits">Eval-mode logits of the pruned model for the fixture input.</param>
    public sealed record Case(string Name, string Fixture, double[]? Ratios, string[] StateDictKeys, long[][] StateDictShapes,
        double[][] Logits)
    {
        public string CheckpointPath => Path.Combine(Folder, Name + ".pt");

        public long[] ShapeOf(string key) => StateDictShapes[Array.IndexOf(StateDictKeys, key)];
    }

    private static Dictionary<string, Case> Load()
    {
        using var stream = File.OpenRead(Path.Combine(Folder, "reference.json"));
        using var document = JsonDocument.Parse(stream);
        var result = new Dictionary<string, Case>(StringComparer.Ordinal);
        foreach (var element in document.RootElement.GetProperty("cases").EnumerateArray())
        {
            string name = element.GetProperty("case").GetString()!;
            result[name] = new Case(name, element.GetProperty("fixture").GetString()!,
                element.TryGetProperty("ratios", out var ratios) ? ratios.Deserialize<double[]>(JsonOptions) : null,
                element.GetProperty("stateDictKeys").Deserialize<string[]>(JsonOptions)!,
                element.GetProperty("stateDictShapes").Deserialize<long[][]>(JsonOptions)!,
                element.GetProperty("logits").Deserialize<double[][]>(JsonOptions)!);
        }
        return result;
    }
}

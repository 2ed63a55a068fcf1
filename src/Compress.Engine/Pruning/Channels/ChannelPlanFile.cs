using System.Globalization;
using System.Text.Json;
using Compress.Engine.Diagnostics;
using Compress.Engine.Reporting;

namespace Compress.Engine.Pruning.Channels;

/// <summary>
/// A channel pruning plan as a JSON file: decided once (<see cref="ChannelPruner.Plan(Models.ClassifierModel, ChannelPruningOptions)"/>), written next to the artifact,
/// read back and applied later (<see cref="ChannelPruner.Apply"/>), e.g. to prune the same model again after retraining
/// with exactly the same channels. A build report's <c>channels</c> array is the same data and reads back too.
/// </summary>
public static class ChannelPlanFile
{
    /// <summary>The format tag written into every plan file.</summary>
    public const string Format = "compress.channel-plan/1";

    /// <summary>The document written by <see cref="Write"/>.</summary>
    /// <param name="Format">Always <see cref="ChannelPlanFile.Format"/>.</param>
    /// <param name="Model">The model the plan was made for (architecture or ONNX path), for people.</param>
    /// <param name="Groups">Every group in graph order.</param>
    public sealed record Document(string Format, string? Model, IReadOnlyList<ChannelPlanEntry> Groups);

    /// <summary>Writes <paramref name="plan"/> to <paramref name="path"/> atomically (CMP0004 on failure).</summary>
    public static void Write(string path, IReadOnlyList<PrunedChannelGroup> plan, string? model)
    {
        ArgumentNullException.ThrowIfNull(plan);
        JsonOutput.WriteFile(path, new Document(Format, model, [.. plan.Select(ChannelPlanEntry.Of)]));
    }

    /// <summary>
    /// The plan in <paramref name="path"/>: a plan file (<c>groups</c>) or a build report (<c>channels</c>). Whether it
    /// fits a model is checked when it is applied (CMP0706).
    /// </summary>
    /// <exception cref="CompressException">CMP0707 when the file is missing, not JSON, or holds no plan.</exception>
    public static IReadOnlyList<PrunedChannelGroup> Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path)) throw Invalid(path, "the file does not exist");
        List<ChannelPlanEntry>? entries;
        try
        {
            byte[] bytes = File.ReadAllBytes(path);
            if (Utf8Input.FirstInvalid(bytes) is var (offset, line, column))
                throw Invalid(path, string.Create(System.Globalization.CultureInfo.InvariantCulture, $"it is not valid UTF-8 (byte {offset}, line {line}, column {column})"));
            using var document = JsonDocument.Parse(bytes);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw Invalid(path, "it is not a JSON object");
            JsonElement array = default;
            bool found = false;
            foreach (var property in root.EnumerateObject())
            {
                if (property.NameEquals("groups") || property.NameEquals("channels"))
                {
                    array = property.Value;
                    found = true;
                }
            }
            if (!found || array.ValueKind != JsonValueKind.Array)
                throw Invalid(path, "it has no 'groups' (plan file) or 'channels' (build report) array");
            entries = array.Deserialize<List<ChannelPlanEntry>>(JsonOutput.Options);
        }
        catch (JsonException e)
        {
            throw Invalid(path, "it is not valid plan JSON: " + e.Message);
        }
        catch (IOException e)
        {
            throw Invalid(path, "it cannot be read: " + e.Message);
        }
        if (entries is null || entries.Count == 0) throw Invalid(path, "its plan has no groups");
        var plan = new List<PrunedChannelGroup>();
        foreach (var e in entries)
        {
            if (e is null || e.Producers is null || e.Kept is null || e.ChannelsBefore < 1)
                throw Invalid(path, "a group lacks its producers, kept channels or channel count");
            var group = new ChannelGroup(e.Id, e.ChannelsBefore, e.Producers, e.BatchNorms ?? [],
                [.. (e.Consumers ?? []).Select(c => new ChannelConsumer(c, 1))], e.ExcludedReason)
            {
                Others = e.Others ?? [],
                Blocks = Math.Max(1, e.Blocks),
                Reorderable = e.Reorderable,
            };
            plan.Add(new PrunedChannelGroup(group, e.Ratio, e.Kept) { Note = e.Note });
        }
        return plan;
    }

    /// <summary>One line for the progress output: how many groups were pruned, channels before and after, and the
    /// exclusions by reason.</summary>
    public static string Describe(IReadOnlyList<PrunedChannelGroup> plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var c = CultureInfo.InvariantCulture;
        int pruned = plan.Count(g => g.ChannelsAfter < g.ChannelsBefore);
        var excluded = plan.Where(g => !g.Group.IsPrunable).ToList();
        string text = string.Create(c,
            $"channels: {plan.Count} groups, {pruned} pruned ({plan.Sum(g => g.ChannelsBefore):N0} -> {plan.Sum(g => g.ChannelsAfter):N0} channels), {excluded.Count} excluded");
        if (excluded.Count == 0) return text;
        var reasons = excluded.GroupBy(g => g.Group.ExcludedReason!, StringComparer.Ordinal)
            .Select(r => r.Count() == 1 ? r.Key : string.Create(c, $"{r.Key} (x{r.Count()})"));
        return text + ": " + string.Join("; ", reasons);
    }

    private static CompressException Invalid(string path, string why) =>
        new(DiagnosticCode.InvalidChannelPlanFile, $"Channel plan '{path}' cannot be used: {why}.", path,
            "Give a plan written by --save-plan, or a build report with a 'channels' section.");
}

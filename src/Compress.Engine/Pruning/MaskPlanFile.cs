using System.Text.Json;
using Compress.Engine.Diagnostics;
using Compress.Engine.Models;
using Compress.Engine.Reporting;
using static TorchSharp.torch;

namespace Compress.Engine.Pruning;

/// <summary>
/// An unstructured pruning plan as a JSON file: per weight its shape and which entries are pruned (a bit per entry,
/// 1 = kept, packed little-endian into bytes, base64), decided once and applied later to the same model (e.g. the same
/// mask on a retrained baseline). Deciding (<see cref="Unstructured.UnstructuredPruner"/>) and applying
/// (<see cref="Read"/> then <see cref="PruningMask.Apply"/>) are separate.
/// </summary>
public static class MaskPlanFile
{
    /// <summary>The format tag written into every mask plan.</summary>
    public const string Format = "compress.mask-plan/1";

    /// <summary>One weight's mask.</summary>
    /// <param name="Name">Parameter name.</param>
    /// <param name="Shape">Its shape.</param>
    /// <param name="Pruned">Entries pruned.</param>
    /// <param name="Kept">Bit i of the packed bytes (little-endian within a byte) is 1 when entry i is kept; base64.</param>
    public sealed record Entry(string Name, long[] Shape, long Pruned, string Kept);

    /// <summary>The document.</summary>
    /// <param name="Format">Always <see cref="MaskPlanFile.Format"/>.</param>
    /// <param name="Model">The model the plan was made for, for people.</param>
    /// <param name="Masks">Every masked weight, in module order.</param>
    public sealed record Document(string Format, string? Model, IReadOnlyList<Entry> Masks);

    /// <summary>Writes <paramref name="mask"/> to <paramref name="path"/> atomically (CMP0004 on failure).</summary>
    public static void Write(string path, PruningMask mask, string? model)
    {
        ArgumentNullException.ThrowIfNull(mask);
        var entries = new List<Entry>();
        foreach (var (name, m) in mask.Masks)
        {
            bool[] bits = m.cpu().flatten().data<bool>().ToArray();
            var packed = new byte[(bits.Length + 7) / 8];
            long pruned = 0;
            for (int i = 0; i < bits.Length; i++)
            {
                if (bits[i]) packed[i / 8] |= (byte)(1 << (i % 8));
                else pruned++;
            }
            entries.Add(new Entry(name, m.shape, pruned, Convert.ToBase64String(packed)));
        }
        JsonOutput.WriteFile(path, new Document(Format, model, entries));
    }

    /// <summary>
    /// The mask in <paramref name="path"/>, checked against <paramref name="model"/>'s parameters (names and shapes), on
    /// their devices.
    /// </summary>
    /// <exception cref="CompressException">CMP0708 when the file is missing or not a mask plan, or does not fit the
    /// model (an unknown weight, another shape, a count that disagrees with the bits).</exception>
    public static PruningMask Read(string path, ClassifierModel model)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(model);
        if (!File.Exists(path)) throw Invalid(path, "the file does not exist");
        Document? document;
        try
        {
            byte[] bytes = File.ReadAllBytes(path);
            if (Utf8Input.FirstInvalid(bytes) is var (offset, line, column))
                throw Invalid(path, string.Create(System.Globalization.CultureInfo.InvariantCulture, $"it is not valid UTF-8 (byte {offset}, line {line}, column {column})"));
            document = JsonSerializer.Deserialize<Document>(bytes, JsonOutput.Options);
        }
        catch (JsonException e)
        {
            throw Invalid(path, "it is not valid mask-plan JSON: " + e.Message);
        }
        if (document?.Masks is null || document.Format != Format) throw Invalid(path, $"it is not a {Format} file");
        var parameters = model.named_parameters().ToDictionary(p => p.name, p => p.parameter, StringComparer.Ordinal);
        var masks = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            foreach (var entry in document.Masks)
            {
                if (entry?.Name is null || !parameters.TryGetValue(entry.Name, out var parameter))
                    throw Invalid(path, $"it masks '{entry?.Name}', which the model does not have");
                if (entry.Shape is null || !entry.Shape.SequenceEqual(parameter.shape))
                    throw Invalid(path, $"'{entry.Name}' is [{string.Join(", ", entry.Shape ?? [])}] in the plan but [{string.Join(", ", parameter.shape)}] in the model");
                byte[] packed;
                try
                {
                    packed = Convert.FromBase64String(entry.Kept ?? "");
                }
                catch (FormatException)
                {
                    throw Invalid(path, $"the bits of '{entry.Name}' are not base64");
                }
                long n = parameter.numel();
                if (packed.Length != (n + 7) / 8) throw Invalid(path, $"the bits of '{entry.Name}' do not cover its {n} entries");
                var bits = new bool[n];
                long pruned = 0;
                for (long i = 0; i < n; i++)
                {
                    bits[i] = (packed[i / 8] & (1 << (int)(i % 8))) != 0;
                    if (!bits[i]) pruned++;
                }
                if (pruned != entry.Pruned) throw Invalid(path, $"'{entry.Name}' says {entry.Pruned} entries are pruned, but its bits prune {pruned}");
                masks[entry.Name] = tensor(bits, parameter.shape).to(parameter.device);
            }
            return new PruningMask(masks);
        }
        catch
        {
            foreach (var m in masks.Values) m.Dispose();
            throw;
        }
    }

    private static CompressException Invalid(string path, string why) =>
        new(DiagnosticCode.InvalidMaskPlanFile, $"Mask plan '{path}' cannot be used: {why}.", path,
            "Give a mask plan written by compress prune --method unstructured --save-plan for this model.");
}

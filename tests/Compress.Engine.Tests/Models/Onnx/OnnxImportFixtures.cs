using System.Text.Json;
using static TorchSharp.torch;

namespace Compress.Engine.Tests.Models.Onnx;

/// <summary>The torchvision-made ONNX files of tests/fixtures/onnx-import (see make_onnx_import.py there) and the
/// logits PyTorch computed for them.</summary>
internal static class OnnxImportFixtures
{
    private static readonly JsonSerializerOptions JsonOptions = new() { PropertyNameCaseInsensitive = true };

    private static readonly Lazy<Dictionary<string, Entry>> All = new(Load);

    public static string Folder => RepoPaths.Fixture("onnx-import");

    public static Entry Get(string file) => All.Value[file];

    public static IEnumerable<string> Files => All.Value.Keys.Order(StringComparer.Ordinal);

    /// <summary>Every fixture file, for theories.</summary>
    public static TheoryData<string> AllFiles => new(Files);

    public sealed record Entry(string File, string Family, int Opset, string Batchnorm, int[] Input_shape, int Classes,
        Dictionary<string, int> Ops, double[][] Logits)
    {
        public string Path => System.IO.Path.Combine(Folder, File);

        /// <summary>The script's deterministic input: x[i] = sin(0.37 i) * 1.5 over the flattened [2, C, H, W] batch.</summary>
        public Tensor Input()
        {
            int count = 2 * Input_shape[0] * Input_shape[1] * Input_shape[2];
            var values = new float[count];
            for (int i = 0; i < count; i++) values[i] = (float)(Math.Sin(0.37 * i) * 1.5);
            return tensor(values, [2, Input_shape[0], Input_shape[1], Input_shape[2]]);
        }
    }

    private sealed record Manifest(Entry[] Files);

    private static Dictionary<string, Entry> Load()
    {
        var manifest = JsonSerializer.Deserialize<Manifest>(File.ReadAllText(System.IO.Path.Combine(Folder, "reference.json")), JsonOptions)!;
        return manifest.Files.Where(f => f.Logits is not null).ToDictionary(f => f.File, StringComparer.Ordinal);
    }
}

using System.Text.Json;
using Compress.Engine.Models;
using static TorchSharp.torch;

namespace Compress.Engine.Tests.Models;

/// <summary>The PyTorch-made reference models in tests/fixtures/models (see make_models.py there).</summary>
internal static class ModelFixtures
{
    public static string Folder => Path.Combine(AppContext.BaseDirectory, "fixtures", "models");

    public static string LeNet5Safetensors =>
        Path.Combine(AppContext.BaseDirectory, "fixtures", "lenet5-seed0", "lenet5-seed0.safetensors");

    public static string LeNet5SafetensorsReference =>
        Path.Combine(AppContext.BaseDirectory, "fixtures", "lenet5-seed0", "reference.json");

    private static readonly JsonSerializerOptions JsonOptions = new() { PropertyNameCaseInsensitive = true };

    private static readonly Lazy<Dictionary<string, Reference>> All = new(Load);

    public static Reference Get(string name) => All.Value[name];

    public static IEnumerable<string> Names => All.Value.Keys;

    public sealed record Reference(string Name, string Architecture, double Width, int Classes, int[] InputShape,
        string[] ParameterOrder, string[] StateDictOrder, long[][] StateDictShapes, double[] StateDictSums,
        long ParameterCount, long ParameterCountWidth1, double[][] Logits)
    {
        public string CheckpointPath => Path.Combine(Folder, Name + ".pt");

        public ModelOptions Options => new() { Architecture = Architecture, WidthMultiplier = Width, Classes = Classes };

        /// <summary>The fixed input batch (2 images), NCHW float32.</summary>
        public Tensor Input()
        {
            var bytes = File.ReadAllBytes(Path.Combine(Folder, Name + ".input.f32"));
            var values = new float[bytes.Length / 4];
            Buffer.BlockCopy(bytes, 0, values, 0, bytes.Length);
            return tensor(values, [2, InputShape[0], InputShape[1], InputShape[2]]);
        }
    }

    /// <summary>A model with weights from an explicit seed.</summary>
    public static ClassifierModel Create(ModelOptions options, long seed = 0)
    {
        random.manual_seed(seed);
        return ModelFactory.Create(options);
    }

    private static Dictionary<string, Reference> Load()
    {
        using var stream = File.OpenRead(Path.Combine(Folder, "reference.json"));
        var file = JsonSerializer.Deserialize<ReferenceFile>(stream, JsonOptions)!;
        return file.Models.ToDictionary(m => m.Name);
    }

    private sealed record ReferenceFile(string Source, Reference[] Models);
}

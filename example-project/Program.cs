using System.Globalization;
using System.Text.Json;
using Compress.Engine.Data;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

// Loads each model the build produced (bin/.../classifier.onnx from a built-in architecture, shapes.onnx from the
// ONNX file in models/) with ONNX Runtime and classifies the built-in synthetic test images. Everything the app needs
// to prepare an image (mean, std, channel order, input size, whether the model normalises itself, class labels) is
// read from the model's own metadata: the preprocessing contract (docs/artifact.md).
var test = DatasetLoader.Load("synthetic").Test; // only to have test images; a real app brings its own
int failures = 0;
foreach (string name in new[] { "classifier", "shapes" })
{
    string modelPath = Path.Combine(AppContext.BaseDirectory, name + ".onnx");
    if (!File.Exists(modelPath))
    {
        Console.Error.WriteLine($"{modelPath} is missing: build the project first (dotnet build example-project).");
        failures++;
        continue;
    }
    using var session = new InferenceSession(modelPath);
    var contract = Contract.Read(session.ModelMetadata.CustomMetadataMap);
    string inputName = session.InputMetadata.Keys.Single();
    var shape = test.Shape;
    if (contract.Height != shape.Height || contract.Width != shape.Width || contract.Channels != shape.Channels)
    {
        Console.Error.WriteLine($"{name}.onnx takes {contract.Channels}x{contract.Height}x{contract.Width}; these test images are {shape}.");
        failures++;
        continue;
    }

    const int batch = 64;
    int correct = 0;
    int plane = shape.Height * shape.Width;
    for (int start = 0; start < test.Count; start += batch)
    {
        int n = Math.Min(batch, test.Count - start);
        var input = new DenseTensor<float>([n, shape.Channels, shape.Height, shape.Width]);
        var buffer = input.Buffer.Span;
        for (int i = 0; i < n; i++)
        {
            var pixels = test.GetPixels(start + i);
            for (int j = 0; j < pixels.Length; j++) buffer[(i * pixels.Length) + j] = contract.Prepare(pixels[j], j / plane);
        }
        using var results = session.Run([NamedOnnxValue.CreateFromTensor(inputName, input)]);
        var logits = results[0].AsTensor<float>();
        int classes = (int)logits.Dimensions[1];
        for (int i = 0; i < n; i++)
        {
            int best = 0;
            for (int k = 1; k < classes; k++)
                if (logits[i, k] > logits[i, best]) best = k;
            if (best == test.GetLabel(start + i)) correct++;
        }
    }

    var metadata = session.ModelMetadata.CustomMetadataMap;
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"{name}.onnx: {100.0 * correct / test.Count:F2}% of {test.Count} synthetic test images classified correctly " +
        $"(input '{inputName}', normalisation {metadata.GetValueOrDefault("compress.preprocess.normalization", "?")}, " +
        $"labels {string.Join(",", contract.Labels.Take(3))}..., pruned at rate {metadata.GetValueOrDefault("compress.prune_rate", "?")} " +
        $"({metadata.GetValueOrDefault("compress.prune_rate_source", "?")}))"));
}
return failures == 0 ? 0 : 1;

/// <summary>The preprocessing contract an artifact carries in its metadata (keys in docs/artifact.md).</summary>
internal sealed record Contract(float[] Mean, float[] Std, bool Embedded, int Channels, int Height, int Width, string[] Labels)
{
    public static Contract Read(IReadOnlyDictionary<string, string> metadata)
    {
        static float[] Numbers(string text) => [.. text.Split(',').Select(s => float.Parse(s, CultureInfo.InvariantCulture))];
        var mean = Numbers(metadata["compress.preprocess.mean"]);
        var size = metadata["compress.preprocess.input_size"].Split('x');
        return new Contract(mean, Numbers(metadata["compress.preprocess.std"]), metadata["compress.preprocess.embedded"] == "true",
            metadata["compress.preprocess.channel_order"] == "L" ? 1 : 3, int.Parse(size[0], CultureInfo.InvariantCulture),
            int.Parse(size[1], CultureInfo.InvariantCulture),
            JsonSerializer.Deserialize<string[]>(metadata.GetValueOrDefault("compress.labels", "[]")) ?? []);
    }

    /// <summary>The model's input value for pixel value <paramref name="pixel"/> of channel <paramref name="channel"/>.</summary>
    public float Prepare(byte pixel, int channel) => Embedded ? pixel : ((pixel / 255f) - Mean[channel]) / Std[channel];
}

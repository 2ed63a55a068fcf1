using System.Globalization;
using Compress.Engine.Data;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

// Loads the model the build produced (bin/.../classifier.onnx) with ONNX Runtime and classifies the built-in synthetic
// test images, printing the accuracy.
string modelPath = Path.Combine(AppContext.BaseDirectory, "classifier.onnx");
if (!File.Exists(modelPath))
{
    Console.Error.WriteLine($"{modelPath} is missing: build the project first (dotnet build example-project).");
    return 1;
}

var splits = DatasetLoader.Load("synthetic");
var normalization = Normalization.FromDataset(splits.Train); // the same normalisation the engine trained with
var test = splits.Test;
var shape = test.Shape;

using var session = new InferenceSession(modelPath);
const int batch = 64;
int correct = 0;
for (int start = 0; start < test.Count; start += batch)
{
    int n = Math.Min(batch, test.Count - start);
    var input = new DenseTensor<float>([n, shape.Channels, shape.Height, shape.Width]);
    var buffer = input.Buffer.Span;
    int plane = shape.Height * shape.Width;
    for (int i = 0; i < n; i++)
    {
        var pixels = test.GetPixels(start + i);
        for (int j = 0; j < pixels.Length; j++)
        {
            int c = j / plane;
            buffer[i * pixels.Length + j] = (pixels[j] / 255f - normalization.Mean[c]) / normalization.Std[c];
        }
    }
    using var results = session.Run([NamedOnnxValue.CreateFromTensor("input", input)]);
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
    $"classifier.onnx: {100.0 * correct / test.Count:F2}% of {test.Count} synthetic test images classified correctly " +
    $"(pruned at rate {metadata.GetValueOrDefault("compress.prune_rate", "?")}, {metadata.GetValueOrDefault("compress.prune_rate_source", "?")})"));
return 0;

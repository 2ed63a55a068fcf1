using Compress.Engine.Data;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Compress.Engine.Tests.Benchmark;

/// <summary>An independent accuracy computation: one plain <c>session.Run</c> per image, normalised here by hand.</summary>
internal static class OrtTestData
{
    public static double AccuracyImageByImage(string model, IImageDataset dataset, Normalization normalization)
    {
        using var session = new InferenceSession(model);
        var shape = dataset.Shape;
        int plane = shape.Height * shape.Width;
        int correct = 0;
        for (int i = 0; i < dataset.Count; i++)
        {
            var pixels = dataset.GetPixels(i);
            var tensor = new DenseTensor<float>([1, shape.Channels, shape.Height, shape.Width]);
            for (int j = 0; j < shape.Size; j++)
            {
                int c = j / plane;
                tensor.Buffer.Span[j] = ((pixels[j] / 255f) - normalization.Mean[c]) / normalization.Std[c];
            }
            using var results = session.Run([NamedOnnxValue.CreateFromTensor("input", tensor)]);
            var logits = results[0].AsEnumerable<float>().ToArray();
            int best = Array.IndexOf(logits, logits.Max());
            if (best == dataset.GetLabel(i)) correct++;
        }
        return 100.0 * correct / dataset.Count;
    }
}

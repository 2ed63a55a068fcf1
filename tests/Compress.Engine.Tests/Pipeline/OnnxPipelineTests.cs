using Compress.Engine.Diagnostics;
using Compress.Engine.Pipeline;
using Compress.Engine.Tests.Data;
using Compress.Engine.Tests.Models.Onnx;
using Compress.Engine.Training;
using Onnx;
using SkiaSharp;

namespace Compress.Engine.Tests.Pipeline;

/// <summary>An imported ONNX model through the whole prune job, on a folder of photos of mixed sizes.</summary>
public class OnnxPipelineTests
{
    private static void WritePhoto(string path, int seed, int width, int height)
    {
        var rng = new Random(seed);
        using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul));
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
                bitmap.SetPixel(x, y, new SKColor((byte)rng.Next(256), (byte)((x * 7) + seed), (byte)(y * 5)));
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        File.WriteAllBytes(path, data.ToArray());
    }

    private static string Photos(TempDirectory dir)
    {
        string[] classes = ["ant", "bee", "cat", "dog", "eel", "fox", "gnu", "hen", "ibis", "jay"];
        int n = 0;
        foreach (string split in new[] { "train", "test" })
            for (int c = 0; c < classes.Length; c++)
                for (int i = 0; i < (split == "train" ? 3 : 1); i++, n++)
                    WritePhoto(dir.Combine("data", split, classes[c], $"{i}.png"), n, 40 + (n % 5 * 9), 36 + (n % 3 * 11));
        return dir.Combine("data");
    }

    [Fact]
    public void Prune_ImportedModelOnMixedPhotos_WritesTheContractAndEmbedsTheNormalization()
    {
        using var dir = new TempDirectory();
        string onnx = dir.Combine("artifact.onnx");
        var result = PruneJob.Run(new PruneJob.Options
        {
            Model = new Compress.Engine.Models.ModelOptions { Architecture = OnnxImportFixtures.Get("mobilenet_v2-op17-bnkept.onnx").Path },
            Weights = OnnxImportFixtures.Get("mobilenet_v2-op17-bnkept.onnx").Path,
            Data = new DataOptions { Source = Photos(dir) },
            Rate = "0.3",
            FineTune = TrainingOptions.PaperFineTune with { Epochs = 1, BatchSize = 8 },
            OnnxOutputPath = onnx,
            EmbedPreprocessing = true,
        }, DiagnosticSinks.None);

        var metadata = ModelProto.Parser.ParseFrom(File.ReadAllBytes(onnx)).MetadataProps.ToDictionary(p => p.Key, p => p.Value);
        // An imported RGB model without a recorded contract is normalised with ImageNet's statistics, said so.
        Assert.Equal("imagenet", metadata["compress.preprocess.normalization"]);
        Assert.Equal("0.485,0.456,0.406", metadata["compress.preprocess.mean"]);
        Assert.Equal("32x32", metadata["compress.preprocess.input_size"]);
        Assert.Equal("shorter side to 37, centre crop 32x32", metadata["compress.preprocess.resize"]);
        Assert.Equal("RGB", metadata["compress.preprocess.channel_order"]);
        Assert.Equal("true", metadata["compress.preprocess.embedded"]);
        Assert.StartsWith("[\"ant\",\"bee\"", metadata["compress.labels"], StringComparison.Ordinal);
        // The shipped file names its source by file name only: no folder of this machine in it.
        Assert.Equal("mobilenet_v2-op17-bnkept.onnx", metadata["compress.architecture"]);
        Assert.DoesNotContain(metadata.Values, v => v.Contains(Path.DirectorySeparatorChar + "tmp" + Path.DirectorySeparatorChar, StringComparison.Ordinal)
            || v.Contains(Path.GetDirectoryName(OnnxImportFixtures.Get("mobilenet_v2-op17-bnkept.onnx").Path)!, StringComparison.Ordinal));
        // The artifact takes raw pixels and classifies the test photos exactly as the fine-tuned model did.
        Assert.Equal(result.AccuracyAfterFinetune, result.AccuracyOnnx!.Value, 6);
        Assert.NotNull(result.Import);
        Assert.Contains("features.0.0.weight", result.Import!.Trainable.Keys);
        Assert.Contains(result.Import.NotTrained, k => k.EndsWith("running_mean", StringComparison.Ordinal));
        Assert.Contains(result.Import.Constants.Values, v => v.StartsWith("Clip [0, 6]", StringComparison.Ordinal));
    }
}

using System.IO.Compression;
using Compress.Engine.Data;
using Compress.Engine.Models;
using Compress.Engine.Models.Onnx;
using Compress.Engine.Pruning.Channels;
using Compress.Engine.Pruning.FineGrained;
using Compress.Engine.Spec;
using Compress.Engine.Tests.Data;
using Compress.Engine.Tests.Models;
using SkiaSharp;

namespace Compress.Engine.Tests.Fuzzing;

/// <summary>
/// One input parser under fuzzing: the valid files of a small input (relative path to bytes; each case mutates one of
/// them, the rest stay valid), and the call that reads the folder they lie in. <paramref name="Rewrap"/>, when set,
/// turns the mutated bytes into the file (a mutated pickle zipped again, a mutated IDX gzipped again), so the mutation
/// reaches the inner format past the container's checksum.
/// </summary>
internal sealed record FuzzTarget(string Name, IReadOnlyDictionary<string, byte[]> Files, Action<string> Parse,
    Func<string, byte[], byte[]>? Rewrap = null);

/// <summary>Every parser of user input the engine has, each with small valid seeds.</summary>
internal static class FuzzTargets
{
    public static IReadOnlyList<string> Names => [.. All.Value.Keys];

    public static FuzzTarget Get(string name) => All.Value[name];

    private static readonly Lazy<Dictionary<string, FuzzTarget>> All = new(() => new[]
    {
        new FuzzTarget("safetensors", new Dictionary<string, byte[]> { ["w.safetensors"] = SmallSafetensors() },
            folder => Checkpoint.ReadStateDict(Path.Combine(folder, "w.safetensors"))),
        new FuzzTarget("pytorch-zip", new Dictionary<string, byte[]> { ["w.pt"] = File.ReadAllBytes(ModelFixtures.Get("lenet5-wrapped").CheckpointPath) },
            folder => Checkpoint.ReadStateDict(Path.Combine(folder, "w.pt"))),
        new FuzzTarget("pytorch-pickle", new Dictionary<string, byte[]> { ["w.pt"] = EntryOf(ModelFixtures.Get("lenet5-wrapped").CheckpointPath, "data.pkl") },
            folder => Checkpoint.ReadStateDict(Path.Combine(folder, "w.pt")),
            (_, pickle) => ReplaceEntry(ModelFixtures.Get("lenet5-wrapped").CheckpointPath, "data.pkl", pickle)),
        new FuzzTarget("cifar", Cifar(), folder => CifarBinaryReader.Read(folder)),
        new FuzzTarget("mnist", Mnist(), folder => MnistIdxReader.Read(folder)),
        new FuzzTarget("mnist-gzip", Mnist().ToDictionary(p => p.Key + ".gz", p => p.Value), folder => MnistIdxReader.Read(folder),
            (_, inner) => Gzip(inner)),
        new FuzzTarget("image-folder", Images(), folder => ImageFolderReader.Read(folder)),
        new FuzzTarget("spec", new Dictionary<string, byte[]> { ["net.json"] = Spec() }, folder =>
        {
            string path = Path.Combine(folder, "net.json");
            var (spec, diagnostics) = BuildSpecParser.Parse(path, File.ReadAllBytes(path));
            // The parser returns its errors: the same contract, made an exception like Load does.
            if (diagnostics.FirstOrDefault(d => d.Severity == Compress.Engine.Diagnostics.DiagnosticSeverity.Error) is { } error)
                throw new Compress.Engine.Diagnostics.CompressException(error.Code, error.Message, error.FilePath, error.Hint) { Line = error.Line, Column = error.Column };
            Assert.NotNull(spec);
        }),
        new FuzzTarget("sparsity-file", new Dictionary<string, byte[]> { ["s.json"] = "{\n  \"conv1.weight\": 0.5,\n  \"fc.weight\": 0.25\n}\n"u8.ToArray() },
            folder => SparsityFile.Load(Path.Combine(folder, "s.json"))),
        new FuzzTarget("channel-plan", new Dictionary<string, byte[]> { ["plan.json"] = ChannelPlan() },
            folder => ChannelPlanFile.Read(Path.Combine(folder, "plan.json"))),
        new FuzzTarget("onnx", new Dictionary<string, byte[]> { ["m.onnx"] = File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "fixtures", "onnx-compact", "resnet_block.onnx")) },
            folder => Assert.NotNull(OnnxImporter.Read(Path.Combine(folder, "m.onnx")).Graph)),
    }.ToDictionary(t => t.Name, StringComparer.Ordinal));

    /// <summary>Four small tensors of three dtypes and two metadata strings.</summary>
    internal static byte[] SmallSafetensors()
    {
        using var dir = new TempDirectory();
        string path = dir.Combine("w.safetensors");
        SafetensorsFile.Write(path,
        [
            ("conv1.weight", new TensorData("F32", [2, 1, 2, 2], [.. Enumerable.Range(0, 32).Select(i => (byte)i)])),
            ("conv1.bias", new TensorData("F32", [2], new byte[8])),
            ("fc.weight", new TensorData("F16", [3, 2], [.. Enumerable.Range(0, 12).Select(i => (byte)(i * 7))])),
            ("bn.num_batches_tracked", new TensorData("I64", [], new byte[8])),
        ], new Dictionary<string, string> { ["format"] = "pt", ["note"] = "fuzz seed \u00e9" });
        return File.ReadAllBytes(path);
    }

    private static byte[] EntryOf(string zip, string suffix)
    {
        using var archive = ZipFile.OpenRead(zip);
        var entry = archive.Entries.Single(e => e.FullName.EndsWith(suffix, StringComparison.Ordinal));
        using var stream = entry.Open();
        var data = new byte[entry.Length];
        stream.ReadExactly(data);
        return data;
    }

    /// <summary>The zip at <paramref name="zip"/> with the entry ending in <paramref name="suffix"/> replaced (stored, as torch.save does).</summary>
    internal static byte[] ReplaceEntry(string zip, string suffix, byte[] replacement)
    {
        using var output = new MemoryStream();
        using (var source = ZipFile.OpenRead(zip))
        using (var target = new ZipArchive(output, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var entry in source.Entries)
            {
                using var stream = entry.Open();
                var data = new byte[entry.Length];
                stream.ReadExactly(data);
                using var written = target.CreateEntry(entry.FullName, CompressionLevel.NoCompression).Open();
                written.Write(entry.FullName.EndsWith(suffix, StringComparison.Ordinal) ? replacement : data);
            }
        }
        return output.ToArray();
    }

    private static byte[] Gzip(byte[] data)
    {
        using var output = new MemoryStream();
        using (var zip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true)) zip.Write(data);
        return output.ToArray();
    }

    private static Dictionary<string, byte[]> Cifar()
    {
        using var dir = new TempDirectory();
        DataFiles.WriteCifar(dir.Combine("data_batch_1.bin"), [1, 2, 3]);
        DataFiles.WriteCifar(dir.Combine("test_batch.bin"), [4, 5]);
        return new Dictionary<string, byte[]>
        {
            ["data_batch_1.bin"] = File.ReadAllBytes(dir.Combine("data_batch_1.bin")),
            ["test_batch.bin"] = File.ReadAllBytes(dir.Combine("test_batch.bin")),
            ["batches.meta.txt"] = "airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n"u8.ToArray(),
        };
    }

    private static Dictionary<string, byte[]> Mnist() => new()
    {
        ["train-images-idx3-ubyte"] = DataFiles.IdxImages(3, 4, 5),
        ["train-labels-idx1-ubyte"] = DataFiles.IdxLabels([7, 0, 9]),
        ["t10k-images-idx3-ubyte"] = DataFiles.IdxImages(2, 4, 5),
        ["t10k-labels-idx1-ubyte"] = DataFiles.IdxLabels([3, 3]),
    };

    /// <summary>Two classes in each split, as PNG, JPEG, WebP (SkiaSharp's encoders) and a hand-written 24-bit BMP.</summary>
    private static Dictionary<string, byte[]> Images()
    {
        byte[] Encode(SKEncodedImageFormat format, byte red)
        {
            using var bitmap = new SKBitmap(new SKImageInfo(6, 5, SKColorType.Rgba8888, SKAlphaType.Premul));
            for (int y = 0; y < 5; y++)
                for (int x = 0; x < 6; x++) bitmap.SetPixel(x, y, new SKColor(red, (byte)(x * 40), (byte)(y * 50)));
            using var data = bitmap.Encode(format, 90);
            return data.ToArray();
        }
        return new Dictionary<string, byte[]>
        {
            [Path.Combine("train", "a", "0.png")] = Encode(SKEncodedImageFormat.Png, 200),
            [Path.Combine("train", "b", "0.jpg")] = Encode(SKEncodedImageFormat.Jpeg, 20),
            [Path.Combine("test", "a", "0.webp")] = Encode(SKEncodedImageFormat.Webp, 180),
            [Path.Combine("test", "b", "0.bmp")] = Bmp(6, 5),
        };
    }

    /// <summary>A bottom-up 24-bit BMP with rows padded to 4 bytes.</summary>
    private static byte[] Bmp(int width, int height)
    {
        int row = ((width * 3) + 3) & ~3;
        var bytes = new byte[54 + (row * height)];
        "BM"u8.CopyTo(bytes);
        BitConverter.TryWriteBytes(bytes.AsSpan(2), bytes.Length);
        BitConverter.TryWriteBytes(bytes.AsSpan(10), 54);
        BitConverter.TryWriteBytes(bytes.AsSpan(14), 40);
        BitConverter.TryWriteBytes(bytes.AsSpan(18), width);
        BitConverter.TryWriteBytes(bytes.AsSpan(22), height);
        BitConverter.TryWriteBytes(bytes.AsSpan(26), (short)1);
        BitConverter.TryWriteBytes(bytes.AsSpan(28), (short)24);
        BitConverter.TryWriteBytes(bytes.AsSpan(34), row * height);
        for (int i = 54; i < bytes.Length; i++) bytes[i] = (byte)(i * 11);
        return bytes;
    }

    /// <summary>A spec with most keys (valid together), synthetic data so that it needs no other file.</summary>
    private static byte[] Spec() => """
        {
          "$schema": "../build/compress.schema.json",
          // a comment, as build files have
          "name": "net",
          "model": { "architecture": "resnet18-cifar", "widthMultiplier": 0.25, "classes": 10 },
          "data": "synthetic",
          "syntheticTrain": 640, "syntheticTest": 320,
          "pruneRate": "auto", "maxTrials": 4,
          "fineTuneEpochs": 1, "baselineEpochs": 2,
          "minAccuracy": 50, "maxAccuracyDrop": 2.5, "maxRelativeAccuracyDrop": 3, "maxBytes": 2000000, "minSpeedup": 1.1,
          "device": "cpu", "seed": 3, "threads": 2,
          "outputDirectory": "out", "intermediateDirectory": "obj/compress",
          "method": "channel", "channelRatio": { "layer1.0.conv1": 0.5, "conv1": 0.25 }, "ranking": "l1", "globalRanking": false,
          "ignoredLayers": ["fc"], "channelRoundTo": 4, "normalize": "dataset", "embedPreprocessing": true,
          "decorrelation": 0.1, "decorrelationVariant": "literal",
        }
        """u8.ToArray();

    private static byte[] ChannelPlan() => """
        {
          "format": "compress.channel-plan/1",
          "model": "resnet18-cifar",
          "groups": [
            { "id": 0, "channelsBefore": 8, "channelsAfter": 4, "ratio": 0.5, "producers": ["conv1"], "batchNorms": ["bn1"],
              "consumers": ["layer1.0.conv1"], "others": [], "blocks": 1, "reorderable": true, "excludedReason": null, "kept": [0, 2, 5, 7] },
            { "id": 1, "channelsBefore": 4, "channelsAfter": 4, "ratio": 0, "producers": ["layer1.0.conv1"], "batchNorms": ["layer1.0.bn1"],
              "consumers": ["layer1.0.conv2"], "others": [], "blocks": 1, "reorderable": true, "excludedReason": null, "kept": [0, 1, 2, 3], "note": "x" }
          ]
        }
        """u8.ToArray();
}

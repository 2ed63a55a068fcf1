using System.Diagnostics;
using System.Text.Json;
using Compress.Engine.Diagnostics;
using Compress.Engine.Export;
using Compress.Engine.Models;
using Compress.Engine.Models.Onnx;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Compress.Engine.Tests.Models.Onnx;

/// <summary>
/// Opt-in: the torchvision families at their published widths (1000 classes, 3x224x224), written outside the
/// repository by <c>make_onnx_import.py --full224 DIR</c> (about 1.3 GB) and named by <c>COMPRESS_ONNX_224=DIR</c>.
/// Unset, the theory is reported as skipped (xunit 2 fails a theory without data, so the skip is decided when the
/// attribute is made). Per file: import + ONNX Runtime verification, logits against PyTorch, one training step, and
/// an unfolded export that ONNX Runtime runs like the original.
/// </summary>
[Trait("Category", "OptIn")]
public class OnnxImportFull224Tests(ITestOutputHelper output)
{
    private const string Variable = "COMPRESS_ONNX_224";
    private const string SkipReason = "opt-in: set COMPRESS_ONNX_224 to a folder made by make_onnx_import.py --full224";
    private const double Tolerance = 1e-4;

    private static readonly JsonSerializerOptions JsonOptions = new() { PropertyNameCaseInsensitive = true };

    /// <summary>The folder named by the variable, or null when it is unset or has no reference.json.</summary>
    private static string? Folder =>
        Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } dir && File.Exists(Path.Combine(dir, "reference.json"))
            ? dir : null;

    /// <summary>Every exported file of reference.json; no rows when the variable is unset (the theory is skipped then).</summary>
    public static TheoryData<string> Files
    {
        get
        {
            var data = new TheoryData<string>();
            foreach (var entry in Load().Values.OrderBy(e => e.File, StringComparer.Ordinal)) data.Add(entry.File);
            return data;
        }
    }

    [Full224Theory]
    [MemberData(nameof(Files))]
    public void Load_FullSizeTorchvisionFamily_MatchesPyTorchTrainsAndExports(string file)
    {
        var entry = Load()[file];
        string path = Path.Combine(Folder!, entry.File);
        var clock = Stopwatch.StartNew();
        var failures = new List<string>();

        // Load verifies against ONNX Runtime on the original file (CMP0114 otherwise): nothing else can run without it.
        ClassifierModel model;
        try
        {
            model = OnnxImporter.Load(path);
        }
        catch (CompressException e)
        {
            output.WriteLine($"{file}: import FAILED {e.Code}: {e.Message} ({clock.Elapsed.TotalSeconds:F1} s)");
            throw;
        }
        using var owned = model;
        double importSeconds = clock.Elapsed.TotalSeconds;
        Assert.Equal(entry.Classes, model.Options.Classes);
        Assert.Equal(entry.Input_shape, new[] { model.InputShape.Channels, model.InputShape.Height, model.InputShape.Width });

        // PyTorch's reference keeps the first logits of each row and the max |logit| over all of them.
        using var input = entry.Input();
        double pytorchDiff;
        model.eval();
        using (var noGrad = no_grad())
        using (var logits = model.call(input))
        {
            Assert.Equal(new long[] { 2, entry.Classes }, logits.shape);
            var rows = logits.data<float>().ToArray();
            pytorchDiff = 0;
            for (int row = 0; row < entry.Logits.Length; row++)
                for (int i = 0; i < entry.Logits[row].Length; i++)
                    pytorchDiff = Math.Max(pytorchDiff, Math.Abs(rows[row * entry.Classes + i] - entry.Logits[row][i]));
            pytorchDiff /= entry.Max_abs_logit;
            if (!(pytorchDiff <= Tolerance)) failures.Add($"logits vs PyTorch: relative diff {pytorchDiff:G3}");
        }

        // Before training: the export must hold the file's weights. Both files run in ONNX Runtime on the same batch.
        double exportDiff = double.NaN;
        try
        {
            var exported = OnnxExporter.Export(model, new OnnxExportOptions { FoldBatchNorm = false });
            var original = global::Onnx.ModelProto.Parser.ParseFrom(File.ReadAllBytes(path));
            var expected = OrtRun(File.ReadAllBytes(path), original.Graph.Input[0].Name, input);
            var actual = OrtRun(exported.ToByteArray(), exported.Graph.Input[0].Name, input);
            double maxRef = expected.Max(v => Math.Abs(v));
            exportDiff = expected.Zip(actual, (e, a) => Math.Abs(e - a)).Max() / maxRef;
            if (!(exportDiff <= Tolerance)) failures.Add($"export round trip: relative diff {exportDiff:G3}");
        }
        catch (Exception e) when (e is CompressException or OnnxRuntimeException)
        {
            failures.Add($"export round trip: {e.GetType().Name} {(e as CompressException)?.Code} {e.Message}");
        }

        // One SGD step on a random batch of 2 with random targets.
        float loss;
        using (var scope = NewDisposeScope())
        {
            model.train();
            using var optimizer = optim.SGD(model.parameters(), 0.001);
            var generator = new Generator(224);
            var x = rand([2, entry.Input_shape[0], entry.Input_shape[1], entry.Input_shape[2]], generator: generator);
            var y = randint(0, entry.Classes, [2], dtype: ScalarType.Int64, generator: generator);
            optimizer.zero_grad();
            var value = nn.functional.cross_entropy(model.call(x), y);
            loss = value.item<float>();
            value.backward();
            optimizer.step();
            if (!float.IsFinite(loss)) failures.Add($"training step: loss {loss}");
        }

        output.WriteLine($"{file}: import+verify ok ({importSeconds:F1} s), vs PyTorch {pytorchDiff:G3}, " +
            $"train loss {loss:G4}, export round trip {exportDiff:G3}, {clock.Elapsed.TotalSeconds:F1} s");
        Assert.True(failures.Count == 0, $"{file}: {string.Join("; ", failures)}");
    }

    private static float[] OrtRun(byte[] bytes, string inputName, Tensor input)
    {
        using var session = new InferenceSession(bytes);
        var values = input.data<float>().ToArray();
        using var value = OrtValue.CreateTensorValueFromMemory(values, input.shape);
        using var runOptions = new RunOptions();
        using var outputs = session.Run(runOptions, [inputName], [value], session.OutputNames);
        return outputs[0].GetTensorDataAsSpan<float>().ToArray();
    }

    private static Dictionary<string, Entry> Load()
    {
        if (Folder is not { } folder) return [];
        var manifest = JsonSerializer.Deserialize<Manifest>(File.ReadAllText(Path.Combine(folder, "reference.json")), JsonOptions)!;
        return manifest.Files.Where(f => f.Logits is not null).ToDictionary(f => f.File, StringComparer.Ordinal);
    }

    private sealed record Manifest(Entry[] Files);

    /// <summary>One file of reference.json: the first logits of each of the 2 rows and the max |logit| of all.</summary>
    private sealed record Entry(string File, string Family, int Opset, string Batchnorm, int[] Input_shape, int Classes,
        double Max_abs_logit, double[][] Logits)
    {
        /// <summary>The script's deterministic input: x[i] = sin(0.37 i) * 1.5 over the flattened [2, C, H, W] batch.</summary>
        public Tensor Input()
        {
            int count = 2 * Input_shape[0] * Input_shape[1] * Input_shape[2];
            var values = new float[count];
            for (int i = 0; i < count; i++) values[i] = (float)(Math.Sin(0.37 * i) * 1.5);
            return tensor(values, [2, Input_shape[0], Input_shape[1], Input_shape[2]]);
        }
    }

    /// <summary>A theory that is skipped, with <see cref="SkipReason"/>, unless the variable names a generated folder.</summary>
    private sealed class Full224TheoryAttribute : TheoryAttribute
    {
        public Full224TheoryAttribute()
        {
            if (Folder is null) Skip = SkipReason;
        }
    }
}

using System.Text.Json;
using Compress.Engine.Data;
using Compress.Engine.Diagnostics;
using Compress.Engine.Models;
using Compress.Engine.Pruning.FineGrained;
using Compress.Engine.Pipeline;
using Compress.Engine.Training;
using static TorchSharp.torch;

namespace Compress.Engine.Tests.Pruning.FineGrained;

public sealed class SensitivityScanTests(TrainedLeNet trained) : IClassFixture<TrainedLeNet>
{
    private SensitivityResult Scan(ClassifierModel model, SensitivityOptions options, IDiagnosticSink? sink = null,
        CancellationToken cancellationToken = default) =>
        SensitivityScan.Run(model, trained.Test, trained.Normalization, CPU, options, sink, cancellationToken);

    /// <summary>Every state-dict entry (parameters and buffers) as raw bytes.</summary>
    private static Dictionary<string, byte[]> Snapshot(ClassifierModel model) =>
        model.OrderedStateDict().ToDictionary(e => e.Key, e => e.Value.bytes.ToArray());

    private static void AssertBitIdentical(Dictionary<string, byte[]> expected, ClassifierModel model)
    {
        var actual = Snapshot(model);
        Assert.Equal(expected.Keys, actual.Keys);
        foreach (var (key, bytes) in expected) Assert.True(bytes.AsSpan().SequenceEqual(actual[key]), key);
    }

    [Fact]
    public void Run_TinyResNetEveryLayer_LeavesTheStateDictBitIdenticalAndTheTrainingMode()
    {
        // BatchNorm buffers included: the scan evaluates in eval mode and must not touch running statistics either.
        using var model = ModelLoader.Create(TinySetup.TinyResNet, null, CPU, 0);
        model.train();
        var before = Snapshot(model);
        var norm = Normalization.FromDataset(TinySetup.Data.Train);

        var result = SensitivityScan.Run(model, TinySetup.Data.Test, norm, CPU,
            new SensitivityOptions { Sparsities = [0.9, 0.0], BatchSize = 64, MaxBatches = 1 });

        AssertBitIdentical(before, model);
        Assert.True(model.training);
        Assert.Equal([0.0, 0.9], result.Sparsities);
        Assert.Equal(LayerwiseMagnitudePruner.PrunableParameters(model), result.Layers.Select(l => l.Name));
        Assert.Equal(21, result.Layers.Count);
        Assert.Equal(model.parameters().Sum(p => p.numel()), result.ModelParameterCount);
        Assert.Equal(64, result.Images);
        foreach (var layer in result.Layers)
        {
            Assert.Equal(result.DenseLoss, layer.Points[0].Loss);
            // 90 % of any one layer gone changes the logits, hence the loss.
            Assert.NotEqual(result.DenseLoss, layer.Points[1].Loss);
        }
    }

    [Fact]
    public void Run_TrainedLeNet_SparsityZeroIsDenseAndNinetyPercentCostsAccuracy()
    {
        using var model = trained.Load();

        var result = Scan(model, new SensitivityOptions { Sparsities = [0.0, .. SensitivityOptions.DefaultSparsities] });

        Assert.Equal(trained.DenseAccuracy, result.DenseAccuracy);
        Assert.True(result.DenseAccuracy >= 90, $"dense accuracy {result.DenseAccuracy}");
        Assert.Equal(["conv1.weight", "conv2.weight", "fc1.weight", "fc2.weight", "fc3.weight"], result.Layers.Select(l => l.Name));
        Assert.Equal([150L, 2400, 48000, 10080, 840], result.Layers.Select(l => l.ParameterCount));
        Assert.Equal(200, result.Images);
        foreach (var layer in result.Layers)
        {
            Assert.Equal([0.0, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9], layer.Points.Select(p => p.Sparsity));
            Assert.All(layer.Points, p => Assert.InRange(p.Accuracy, 0, 100));
            Assert.All(layer.Points, p => Assert.InRange(p.PrunedCount, LayerwiseMagnitudePruner.ZeroCount(layer.ParameterCount, p.Sparsity), layer.ParameterCount));
            // Sparsity 0 is the dense model, bit for bit, so the very same numbers.
            Assert.Equal(result.DenseAccuracy, layer.Points[0].Accuracy);
            Assert.Equal(result.DenseLoss, layer.Points[0].Loss);
            Assert.Equal(0, layer.Points[0].PrunedCount);
            Assert.NotEqual(result.DenseLoss, layer.Points[^1].Loss);
        }
        // The classifier keeps 84 of its 840 weights at 0.9, about 8 per class: that must cost accuracy (the task is easy
        // enough that the convs shrug off 90 %).
        Assert.True(result.Layers[^1].Points[^1].Accuracy < result.DenseAccuracy - 5,
            string.Join(", ", result.Layers.Select(l => $"{l.Name} {l.Points[^1].Accuracy}")));
    }

    [Fact]
    public void Run_PointAtNinety_EqualsPruningThatLayerAloneAndEvaluating()
    {
        using var model = trained.Load();
        string[] layers = ["conv2.weight", "fc3.weight"];
        var result = Scan(model, new SensitivityOptions { Sparsities = [0.9], Layers = layers });

        foreach (var (name, i) in layers.Select((n, i) => (n, i)))
        {
            using var copy = trained.Load();
            using var mask = LayerwiseMagnitudePruner.Compute(copy, new Dictionary<string, double> { [name] = 0.9 });
            mask.Apply(copy);
            var expected = Evaluator.Evaluate(copy, trained.Test, trained.Normalization, CPU);

            var point = Assert.Single(result.Layers[i].Points);
            Assert.Equal(name, result.Layers[i].Name);
            Assert.Equal(expected.Accuracy, point.Accuracy);
            Assert.Equal(expected.Loss, point.Loss);
            Assert.Equal(mask.PrunedCount, point.PrunedCount);
        }
    }

    [Fact]
    public void Run_MaxBatches_EvaluatesOnlyTheFirstImages()
    {
        using var model = trained.Load();
        var result = Scan(model, new SensitivityOptions { Sparsities = [0.5], Layers = ["fc3.weight"], BatchSize = 32, MaxBatches = 2 });
        Assert.Equal(64, result.Images);
        var first64 = Evaluator.Evaluate(model, new FirstImagesDataset(trained.Test, 64), trained.Normalization, CPU);
        Assert.Equal(first64.Accuracy, result.DenseAccuracy);
    }

    [Fact]
    public void Run_CancelledWhileALayerIsPruned_ThrowsAndRestoresTheWeights()
    {
        using var model = trained.Load();
        var before = Snapshot(model);
        using var cancel = new CancellationTokenSource();
        // Cancels when the first pruned evaluation starts reading images (the dense pass reads each image once).
        var data = new CancelAfterReads(trained.Test, trained.Test.Count, cancel);
        var sink = new CancelOnProgress(null, "never");

        Assert.ThrowsAny<OperationCanceledException>(() =>
            SensitivityScan.Run(model, data, trained.Normalization, CPU, new SensitivityOptions { BatchSize = 16 }, sink, cancel.Token));

        Assert.True(cancel.IsCancellationRequested);
        AssertBitIdentical(before, model);
        Assert.Single(sink.Lines); // the dense line; no layer finished
    }

    [Fact]
    public void Run_ProgressLines_OnePerLayerAfterTheDenseLine()
    {
        using var model = trained.Load();
        var sink = new CancelOnProgress(null, "never");
        Scan(model, new SensitivityOptions { Layers = ["conv1.weight", "fc3.weight"] }, sink);
        Assert.Equal(3, sink.Lines.Count);
        Assert.StartsWith("sensitivity: dense accuracy", sink.Lines[0], StringComparison.Ordinal);
        Assert.StartsWith("sensitivity [2/2] fc3.weight", sink.Lines[2], StringComparison.Ordinal);
    }

    [Fact]
    public void Run_UnknownLayer_ThrowsCmp0750BeforeEvaluating()
    {
        using var model = trained.Load();
        var sink = new CancelOnProgress(null, "never");
        var e = Assert.Throws<CompressException>(() => Scan(model, new SensitivityOptions { Layers = ["fc3.wieght"] }, sink));
        Assert.Equal(DiagnosticCode.UnknownPrunableParameter, e.Code);
        Assert.Contains("did you mean 'fc3.weight'?", e.Message, StringComparison.Ordinal);
        Assert.Empty(sink.Lines);
    }

    [Theory]
    [InlineData(0, null, "0.5")]
    [InlineData(8, 0, "0.5")]
    [InlineData(8, null, "")]
    public void Run_InvalidOptions_ThrowsCmp0754(int batchSize, int? maxBatches, string sparsities)
    {
        using var model = trained.Load();
        var options = new SensitivityOptions
        {
            BatchSize = batchSize,
            MaxBatches = maxBatches,
            Sparsities = [.. sparsities.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(s => double.Parse(s, System.Globalization.CultureInfo.InvariantCulture))],
        };
        Assert.Equal(DiagnosticCode.InvalidSensitivityOption, Assert.Throws<CompressException>(() => Scan(model, options)).Code);
    }

    [Fact]
    public void Run_SparsityAboveOne_ThrowsCmp0751()
    {
        using var model = trained.Load();
        var e = Assert.Throws<CompressException>(() => Scan(model, new SensitivityOptions { Sparsities = [0.5, 1.1] }));
        Assert.Equal(DiagnosticCode.InvalidLayerSparsity, e.Code);
    }

    [Fact]
    public void WriteJson_Result_IsCamelCaseJsonWrittenWithoutATempFile()
    {
        using var model = trained.Load();
        var result = Scan(model, new SensitivityOptions { Sparsities = [0.4, 0.8], Layers = ["conv1.weight"] });
        string folder = Directory.CreateTempSubdirectory("compress-scan-json-").FullName;
        try
        {
            string path = Path.Combine(folder, "scan.json");
            result.WriteJson(path);

            using var json = JsonDocument.Parse(File.ReadAllText(path));
            var root = json.RootElement;
            Assert.Equal(result.DenseAccuracy, root.GetProperty("denseAccuracy").GetDouble());
            var layer = root.GetProperty("layers")[0];
            Assert.Equal("conv1.weight", layer.GetProperty("name").GetString());
            Assert.Equal(result.Layers[0].ParameterCount, layer.GetProperty("parameterCount").GetInt64());
            Assert.Equal(0.8, layer.GetProperty("points")[1].GetProperty("sparsity").GetDouble());
            Assert.Equal(result.Layers[0].Points[1].Accuracy, layer.GetProperty("points")[1].GetProperty("accuracy").GetDouble());
            Assert.Equal(["scan.json"], Directory.GetFiles(folder).Select(Path.GetFileName));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>The same images; cancels <c>cancel</c> once more than <c>reads</c> images were read.</summary>
    private sealed class CancelAfterReads(IImageDataset inner, int reads, CancellationTokenSource cancel) : IImageDataset
    {
        private int _read;

        public int Count => inner.Count;
        public ImageShape Shape => inner.Shape;
        public int ClassCount => inner.ClassCount;
        public IReadOnlyList<string> ClassNames => inner.ClassNames;
        public string Source => inner.Source;
        public int GetLabel(int index) => inner.GetLabel(index);

        public ReadOnlySpan<byte> GetPixels(int index)
        {
            if (Interlocked.Increment(ref _read) > reads) cancel.Cancel();
            return inner.GetPixels(index);
        }
    }

    /// <summary>Collects progress lines; cancels when one starts with a given prefix.</summary>
    private sealed class CancelOnProgress(CancellationTokenSource? cancel, string prefix) : IDiagnosticSink
    {
        public List<string> Lines { get; } = [];

        public void Report(Diagnostic diagnostic) { }

        public void Progress(string message)
        {
            Lines.Add(message);
            if (message.StartsWith(prefix, StringComparison.Ordinal)) cancel?.Cancel();
        }
    }
}

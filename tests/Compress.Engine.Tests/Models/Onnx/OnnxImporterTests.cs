using Compress.Engine.Export;
using Google.Protobuf;
using Compress.Engine.Models.Graph;
using Compress.Engine.Models.Onnx;
using static TorchSharp.torch;

namespace Compress.Engine.Tests.Models.Onnx;

public class OnnxImporterTests
{
    public static TheoryData<string> Files => OnnxImportFixtures.AllFiles;

    [Theory]
    [MemberData(nameof(Files))]
    public void Load_TorchvisionFamily_MatchesOnnxRuntimeAndPyTorch(string file)
    {
        var entry = OnnxImportFixtures.Get(file);
        // Load verifies against ONNX Runtime on the original file (CMP0114 otherwise).
        using var model = OnnxImporter.Load(entry.Path);
        Assert.Equal(entry.Classes, model.Options.Classes);
        Assert.Equal(entry.Input_shape, new[] { model.InputShape.Channels, model.InputShape.Height, model.InputShape.Width });

        model.eval();
        using var input = entry.Input();
        using var noGrad = no_grad();
        using var logits = model.call(input);
        var actual = logits.data<float>().ToArray();
        var expected = entry.Logits.SelectMany(row => row).ToArray();
        Assert.Equal(expected.Length, actual.Length);
        double maxRef = expected.Max(Math.Abs);
        double maxDiff = expected.Zip(actual, (e, a) => Math.Abs(e - a)).Max();
        Assert.True(maxDiff <= 1e-4 * Math.Max(maxRef, 1e-6), $"{file}: max |diff| {maxDiff} vs max |ref| {maxRef}");

        // A BatchNorm-kept file gives trainable BatchNorms; a folded one none.
        int batchNorms = model.DescribeGraph().Nodes.Count(n => n is BatchNormNode);
        Assert.Equal(entry.Ops.GetValueOrDefault("BatchNormalization"), batchNorms);
    }

    [Theory]
    [InlineData("efficientnet_b0-op13-bnkept.onnx", "Activation.Silu", 16)]
    [InlineData("efficientnet_b0-op13-bnkept.onnx", "Activation.Sigmoid", 5)]
    [InlineData("mobilenet_v3_small-op13-bnkept.onnx", "Activation.HardSwish", 11)]
    [InlineData("mobilenet_v2-op17-bnfolded.onnx", "Activation.Clip", 21)]
    [InlineData("convnext_tiny-op13-nobn.onnx", "Activation.Gelu", 4)]
    [InlineData("convnext_tiny-op13-nobn.onnx", "Activation.Erf", 0)]
    [InlineData("convnext_tiny-op17-nobn.onnx", "LayerNorm", 9)]
    [InlineData("mnasnet0_5-op17-bnkept.onnx", "GlobalAveragePool", 1)]
    [InlineData("shufflenet_v2_x0_5-op17-bnkept.onnx", "Slice", 2)]
    [InlineData("shufflenet_v2_x0_5-op13-bnfolded.onnx", "ChannelShuffle", 4)]
    [InlineData("shufflenet_v2_x0_5-op13-bnfolded.onnx", "Reshape", 0)]
    [InlineData("shufflenet_v2_x0_5-op13-bnfolded.onnx", "Transpose", 0)]
    [InlineData("densenet121-op17-bnkept.onnx", "Pad", 0)]
    public void Read_PyTorchPatterns_BecomeOneNode(string file, string kind, int count)
    {
        var imported = OnnxImporter.Read(OnnxImportFixtures.Get(file).Path);
        int found = imported.Graph.Nodes.Count(n => (n is ActivationNode a ? "Activation." + a.Function : n.Kind) == kind);
        Assert.Equal(count, found);
    }

    [Fact]
    public void Read_BatchNormKeptResNet_UsesThePyTorchStateDictNames()
    {
        var imported = OnnxImporter.Read(OnnxImportFixtures.Get("resnet18-op17-bnkept.onnx").Path);
        var keys = imported.Graph.StateShapes.Keys.ToList();
        Assert.Contains("conv1.weight", keys);
        Assert.Contains("layer1.0.bn1.running_var", keys);
        Assert.Contains("fc.bias", keys);
        Assert.Equal("fc.weight", imported.Sources["fc.weight"]);
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void Export_ImportedWithoutPruning_KeepsNamesOpsetAndReproducesTheOriginal(string file)
    {
        var entry = OnnxImportFixtures.Get(file);
        using var model = OnnxImporter.Load(entry.Path);
        var original = global::Onnx.ModelProto.Parser.ParseFrom(File.ReadAllBytes(entry.Path));
        foreach (bool fold in new[] { false, true })
        {
            var exported = OnnxExporter.Export(model, new OnnxExportOptions { FoldBatchNorm = fold });
            OnnxVerifier.Validate(exported);
            Assert.Equal(original.Graph.Input[0].Name, exported.Graph.Input[0].Name);
            Assert.Equal(original.Graph.Output[0].Name, exported.Graph.Output[0].Name);
            Assert.Equal(original.Graph.Input[0].Type.TensorType.Shape.Dim[0].DimParam, exported.Graph.Input[0].Type.TensorType.Shape.Dim[0].DimParam);
            Assert.Equal(entry.Opset, exported.OpsetImport.Single(o => o.Domain.Length == 0).Version);

            // The export runs in ONNX Runtime like the original file, on the same images.
            using var input = entry.Input();
            var expected = OrtRun(File.ReadAllBytes(entry.Path), original.Graph.Input[0].Name, input);
            var actual = OrtRun(exported.ToByteArray(), exported.Graph.Input[0].Name, input);
            double maxRef = expected.Max(v => Math.Abs(v));
            double maxDiff = expected.Zip(actual, (e, a) => Math.Abs(e - a)).Max();
            Assert.True(maxDiff <= 1e-4 * maxRef, $"{file} (fold {fold}): max |diff| {maxDiff} vs max |ref| {maxRef}");
        }
    }

    [Theory]
    [InlineData("convnext_tiny-op17-nobn.onnx", 11)] // LayerNorm decomposed, GELU spelled out
    [InlineData("convnext_tiny-op13-nobn.onnx", 21)] // LayerNormalization and Gelu ops
    [InlineData("mobilenet_v3_small-op17-bnkept.onnx", 13)] // HardSwish as HardSigmoid * x
    [InlineData("efficientnet_b0-op13-bnkept.onnx", 18)] // ReduceMean axes as an input
    public void Export_RequestedOpset_WritesEachOpInThatOpsetsFormAndMatches(string file, int opset)
    {
        using var model = OnnxImporter.Load(OnnxImportFixtures.Get(file).Path);
        var exported = OnnxExporter.Export(model, new OnnxExportOptions { FoldBatchNorm = false, Opset = opset });
        Assert.Equal(opset, exported.OpsetImport.Single(o => o.Domain.Length == 0).Version);
        OnnxVerifier.Validate(exported);
        var parity = OnnxVerifier.CheckParity(model, exported.ToByteArray());
        Assert.InRange(parity.MaxRelativeDifference, 0, OnnxVerifier.ParityTolerance);
    }

    /// <summary>A small copy of the built-in synthetic data (3x32x32, 10 classes), made once for all families.</summary>
    private static readonly Lazy<Compress.Engine.Data.DatasetSplits> Synthetic = new(() =>
        Compress.Engine.Data.SyntheticImages.Load(new Compress.Engine.Data.SyntheticDataOptions { TrainCount = 64, TestCount = 16 }));

    [Theory]
    [MemberData(nameof(Files))]
    public void Train_ImportedFamily_OneEpochOfSyntheticDataChangesTheWeightsAndStaysFinite(string file)
    {
        var entry = OnnxImportFixtures.Get(file);
        using var model = OnnxImporter.Load(entry.Path);
        var parameters = model.parameters().ToList();
        Assert.NotEmpty(parameters);
        var before = parameters.Select(p => p.detach().clone()).ToList();
        // The real training path: batch loader (with augmentation), the trainer's SGD; the data brought to the model's
        // input (AlexNet's is 224x224).
        var input = new Compress.Engine.Data.ImageShape(model.InputShape.Channels, model.InputShape.Height, model.InputShape.Width);
        var data = Compress.Engine.Data.DatasetAdapter.Fit(Synthetic.Value, input);
        var result = new Compress.Engine.Training.Trainer(model, CPU).Train(data.Train, Compress.Engine.Data.Normalization.ImageNet,
            new Compress.Engine.Training.TrainingOptions { Epochs = 1, BatchSize = 32 });
        Assert.True(double.IsFinite(result.Epochs[0].TrainLoss), $"{file}: loss {result.Epochs[0].TrainLoss}");
        // Weights, biases, BatchNorm and LayerNorm affine parameters and layer scales are all trainable, and training
        // moves them (a few sit behind ReLUs that these tiny random networks leave dead).
        Assert.All(parameters, p => Assert.True(p.requires_grad));
        int changed = parameters.Zip(before).Count(pair => !pair.First.detach().allclose(pair.Second, rtol: 0, atol: 0));
        Assert.True(changed >= 0.9 * parameters.Count, $"{file}: {changed} of {parameters.Count} parameters changed");
        foreach (var tensor in before) tensor.Dispose();
    }

    private static float[] OrtRun(byte[] bytes, string inputName, Tensor input)
    {
        using var session = new Microsoft.ML.OnnxRuntime.InferenceSession(bytes);
        var values = input.data<float>().ToArray();
        using var value = Microsoft.ML.OnnxRuntime.OrtValue.CreateTensorValueFromMemory(values, input.shape);
        using var outputs = session.Run(new Microsoft.ML.OnnxRuntime.RunOptions(), [inputName], [value], session.OutputNames);
        return outputs[0].GetTensorDataAsSpan<float>().ToArray();
    }
}

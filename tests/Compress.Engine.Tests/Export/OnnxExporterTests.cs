using Compress.Engine.Diagnostics;
using Compress.Engine.Export;
using Compress.Engine.Models;
using Compress.Engine.Models.Graph;
using Compress.Engine.Tests.Models;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Onnx;
using static TorchSharp.torch;

namespace Compress.Engine.Tests.Export;

public class OnnxExporterTests
{
    public static TheoryData<string, bool> FixturesAndFolding
    {
        get
        {
            var data = new TheoryData<string, bool>();
            foreach (string name in ExportFixtures.Names)
            {
                data.Add(name, true);
                data.Add(name, false);
            }
            return data;
        }
    }

    [Theory]
    [MemberData(nameof(FixturesAndFolding))]
    public void Export_EveryModel_ValidAndMatchesTorchSharpInOnnxRuntime(string fixture, bool fold)
    {
        using var model = ExportFixtures.Load(fixture);
        var proto = OnnxExporter.Export(model, new OnnxExportOptions { FoldBatchNorm = fold });
        OnnxVerifier.Validate(proto);
        var parity = OnnxVerifier.CheckParity(model, proto.ToByteArray(), batch: 4, seed: 0);
        Assert.Equal(4, parity.Batch);
        Assert.True(parity.MaxReference > 1e-3, "logits should not be all zero");
        Assert.InRange(parity.MaxRelativeDifference, 0, OnnxVerifier.ParityTolerance);
        Console.WriteLine($"parity {fixture} fold={fold}: abs {parity.MaxAbsoluteDifference:G3} rel {parity.MaxRelativeDifference:G3}");

        var ops = proto.Graph.Node.Select(n => n.OpType).ToHashSet();
        bool hasBatchNorm = model.named_modules().Any(m => m.module is TorchSharp.Modules.BatchNorm2d);
        Assert.Equal(hasBatchNorm && !fold, ops.Contains("BatchNormalization"));
        Assert.Subset(new HashSet<string> { "Conv", "BatchNormalization", "Relu", "MaxPool", "GlobalAveragePool", "Add", "Flatten", "Gemm" }, ops);
    }

    [Theory]
    [InlineData("resnet18-cifar")]
    [InlineData("lenet5")]
    public void Export_DynamicBatch_RunsAtBatchOneAndThree(string fixture)
    {
        using var model = ExportFixtures.Load(fixture);
        byte[] bytes = OnnxExporter.Export(model).ToByteArray();
        var one = OnnxVerifier.CheckParity(model, bytes, batch: 1, seed: 1);
        var three = OnnxVerifier.CheckParity(model, bytes, batch: 3, seed: 2);
        Assert.Equal(1, one.Batch);
        Assert.Equal(3, three.Batch);
        Assert.InRange(one.MaxRelativeDifference, 0, OnnxVerifier.ParityTolerance);
        Assert.InRange(three.MaxRelativeDifference, 0, OnnxVerifier.ParityTolerance);
    }

    [Fact]
    public void Export_InputAndOutput_NamedWithSymbolicBatch()
    {
        using var model = ExportFixtures.Load("vgg-cifar");
        var proto = OnnxExporter.Export(model);
        Assert.Equal(8, proto.IrVersion);
        Assert.Equal(17, proto.OpsetImport.Single().Version);
        Assert.Equal("", proto.OpsetImport.Single().Domain);
        Assert.Equal("compress", proto.ProducerName);
        Assert.Equal(OnnxExporter.ProducerVersion, proto.ProducerVersion);
        Assert.Matches(@"^\d+\.\d+\.\d+$", proto.ProducerVersion);

        var input = Assert.Single(proto.Graph.Input);
        Assert.Equal("input", input.Name);
        Assert.Equal((int)TensorProto.Types.DataType.Float, input.Type.TensorType.ElemType);
        var dims = input.Type.TensorType.Shape.Dim;
        Assert.Equal("batch", dims[0].DimParam);
        Assert.Equal([3L, 32, 32], dims.Skip(1).Select(d => d.DimValue));

        var output = Assert.Single(proto.Graph.Output);
        Assert.Equal("logits", output.Name);
        Assert.Equal("batch", output.Type.TensorType.Shape.Dim[0].DimParam);
        Assert.Equal(10, output.Type.TensorType.Shape.Dim[1].DimValue);

        // ONNX Runtime sees the same interface.
        using var session = new InferenceSession(proto.ToByteArray());
        Assert.Equal(["input"], session.InputMetadata.Keys);
        Assert.Equal(["logits"], session.OutputMetadata.Keys);
        Assert.Equal([-1, 3, 32, 32], session.InputMetadata["input"].Dimensions);
    }

    [Fact]
    public void Export_WithoutFolding_InitializersAreTheStateDictEntries()
    {
        using var model = ExportFixtures.Load("resnet18-cifar");
        var proto = OnnxExporter.Export(model, new OnnxExportOptions { FoldBatchNorm = false });
        var state = model.OrderedStateDict().Where(p => !p.Key.EndsWith(".num_batches_tracked", StringComparison.Ordinal)).ToList();
        Assert.Equal(state.Select(p => p.Key).Order(StringComparer.Ordinal), proto.Graph.Initializer.Select(i => i.Name).Order(StringComparer.Ordinal));
        foreach (var init in proto.Graph.Initializer)
        {
            var tensor = state.Single(p => p.Key == init.Name).Value;
            Assert.Equal(tensor.shape, init.Dims.ToArray());
            Assert.Equal((int)TensorProto.Types.DataType.Float, init.DataType);
            Assert.Equal(tensor.data<float>().ToArray(), Floats(init));
        }
    }

    [Fact]
    public void Export_Folding_ConvolutionsGetFoldedWeightAndBiasComputedInFloat64()
    {
        using var model = ExportFixtures.Load("resnet18-cifar");
        var proto = OnnxExporter.Export(model);
        var state = model.OrderedStateDict().ToDictionary(p => p.Key, p => p.Value);
        var expectedNames = state.Keys.Where(k => k.EndsWith(".weight", StringComparison.Ordinal) && state[k].dim() == 4)
            .SelectMany(k => new[] { k, k[..^".weight".Length] + ".bias" })
            .Concat(["fc.weight", "fc.bias"]);
        Assert.Equal(expectedNames.Order(StringComparer.Ordinal), proto.Graph.Initializer.Select(i => i.Name).Order(StringComparer.Ordinal));

        // layer2.0.downsample.0 folded with layer2.0.downsample.1, recomputed here in float64.
        using var w = state["layer2.0.downsample.0.weight"].to(float64);
        using var gamma = state["layer2.0.downsample.1.weight"].to(float64);
        using var beta = state["layer2.0.downsample.1.bias"].to(float64);
        using var mean = state["layer2.0.downsample.1.running_mean"].to(float64);
        using var variance = state["layer2.0.downsample.1.running_var"].to(float64);
        using var scale = gamma / (variance + 1e-5).sqrt();
        using var expectedWeight = (w * scale.reshape(-1, 1, 1, 1)).to(float32);
        using var expectedBias = ((-mean) * scale + beta).to(float32);
        Assert.Equal(expectedWeight.data<float>().ToArray(), Floats(proto.Graph.Initializer.Single(i => i.Name == "layer2.0.downsample.0.weight")));
        Assert.Equal(expectedBias.data<float>().ToArray(), Floats(proto.Graph.Initializer.Single(i => i.Name == "layer2.0.downsample.0.bias")));
        Assert.DoesNotContain(proto.Graph.Node, n => n.OpType == "BatchNormalization");
        var conv = proto.Graph.Node.Single(n => n.Name == "layer2.0.downsample.0");
        Assert.Equal(["layer2.0.downsample.1"], conv.Output);
    }

    [Fact]
    public void Export_FiniteWeightsThatFoldBeyondFloat32_AreCmp0107NamingTheLayers_NotAnInvalidGraph()
    {
        // What a diverged fine-tune leaves: finite weights near 1e36 and a BatchNorm scale of 1e4 overflow float32 when folded.
        using var model = ModelFixtures.Create(new ModelOptions { Architecture = "resnet18-cifar", WidthMultiplier = 0.0625 }, seed: 1);
        var state = model.OrderedStateDict().ToDictionary(p => p.Key, p => p.Value);
        using (no_grad())
        {
            state["conv1.weight"].fill_(1e36f);
            state["bn1.weight"].fill_(1e4f);
        }

        var e = Assert.Throws<CompressException>(() => OnnxExporter.Export(model));

        Assert.Equal(DiagnosticCode.NonFiniteWeights, e.Code);
        Assert.Contains("Folding BatchNorm 'bn1' into 'conv1' gives weights beyond float32 (largest |weight| 1E+36", e.Message, StringComparison.Ordinal);
        Assert.Contains("diverged", e.Hint, StringComparison.Ordinal);
    }

    [Fact]
    public void Export_Twice_GivesIdenticalBytes()
    {
        using var model = ExportFixtures.Load("resnet56-cifar");
        var options = new OnnxExportOptions { Metadata = new Dictionary<string, string> { ["b"] = "2", ["a"] = "1" } };
        byte[] first = OnnxExporter.Export(model, options).ToByteArray();
        byte[] second = OnnxExporter.Export(model, options).ToByteArray();
        Assert.Equal(first, second);
    }

    [Fact]
    public void Export_ModelsCreatedTwiceFromTheSameSeed_GiveIdenticalBytes()
    {
        var options = new ModelOptions { Architecture = "resnet18-cifar", WidthMultiplier = 0.0625 };
        using var a = ModelFixtures.Create(options, seed: 5);
        using var b = ModelFixtures.Create(options, seed: 5);
        using var c = ModelFixtures.Create(options, seed: 6);
        byte[] bytesA = OnnxExporter.Export(a).ToByteArray();
        Assert.Equal(bytesA, OnnxExporter.Export(b).ToByteArray());
        Assert.NotEqual(bytesA, OnnxExporter.Export(c).ToByteArray());
    }

    [Fact]
    public void Export_Metadata_WrittenSortedByKey()
    {
        using var model = ExportFixtures.Load("lenet5");
        var proto = OnnxExporter.Export(model, new OnnxExportOptions
        {
            Metadata = new Dictionary<string, string> { ["zeta"] = "z", ["alpha"] = "a", ["Mid"] = "m" },
        });
        Assert.Equal(["Mid", "alpha", "zeta"], proto.MetadataProps.Select(p => p.Key));
        Assert.Equal(["m", "a", "z"], proto.MetadataProps.Select(p => p.Value));
        using var session = new InferenceSession(proto.ToByteArray());
        Assert.Equal("a", session.ModelMetadata.CustomMetadataMap["alpha"]);
    }

    [Fact]
    public void Export_UnsupportedNode_ThrowsCmp0501NamingIt()
    {
        using var model = ExportFixtures.Load("lenet5");
        var graph = model.DescribeGraph();
        var nodes = graph.Nodes.ToList();
        nodes.Add(new SoftmaxNode("softmax", "logits", "probabilities"));
        var e = Assert.Throws<CompressException>(() =>
            OnnxExporter.ExportGraph(model, graph with { Nodes = nodes, Output = "probabilities" }, new OnnxExportOptions()));
        Assert.Equal(DiagnosticCode.UnsupportedExportNode, e.Code);
        Assert.Contains("'softmax'", e.Message, StringComparison.Ordinal);
        Assert.Contains(nameof(SoftmaxNode), e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Export_NodeNamingAMissingModule_ThrowsCmp0501NamingIt()
    {
        using var model = ExportFixtures.Load("lenet5");
        var graph = model.DescribeGraph();
        var nodes = graph.Nodes.Select(n => n is ConvNode { Name: "conv2" } c ? c with { Module = "conv9" } : n).ToList();
        var e = Assert.Throws<CompressException>(() =>
            OnnxExporter.ExportGraph(model, graph with { Nodes = nodes }, new OnnxExportOptions()));
        Assert.Equal(DiagnosticCode.UnsupportedExportNode, e.Code);
        Assert.Contains("conv9.weight", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Export_OtherOpset_ThrowsCmp0501()
    {
        using var model = ExportFixtures.Load("lenet5");
        var e = Assert.Throws<CompressException>(() => OnnxExporter.Export(model, new OnnxExportOptions { Opset = 10 }));
        Assert.Equal(DiagnosticCode.UnsupportedExportNode, e.Code);
    }

    [Fact]
    public void Write_ExistingFile_ReplacedByTheSerializedModelWithoutTemporaryFiles()
    {
        using var model = ExportFixtures.Load("lenet5");
        var proto = OnnxExporter.Export(model);
        string folder = Directory.CreateTempSubdirectory("compress-export-").FullName;
        try
        {
            string path = Path.Combine(folder, "model.onnx");
            File.WriteAllText(path, "old");
            OnnxExporter.Write(proto, path);
            Assert.Equal(proto.ToByteArray(), File.ReadAllBytes(path));
            Assert.Equal(["model.onnx"], Directory.GetFiles(folder).Select(Path.GetFileName));
            var reread = ModelProto.Parser.ParseFrom(File.ReadAllBytes(path));
            Assert.Equal(proto, reread);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static float[] Floats(TensorProto tensor)
    {
        var bytes = tensor.RawData.ToByteArray();
        var values = new float[bytes.Length / 4];
        Buffer.BlockCopy(bytes, 0, values, 0, bytes.Length);
        return values;
    }
}

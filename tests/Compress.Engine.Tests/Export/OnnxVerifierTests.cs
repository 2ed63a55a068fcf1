using Compress.Engine.Diagnostics;
using Compress.Engine.Export;
using Google.Protobuf;
using Onnx;

namespace Compress.Engine.Tests.Export;

public class OnnxVerifierTests
{
    /// <summary>Gives <paramref name="tensor"/> dimension <paramref name="axis"/> = <paramref name="size"/> with values to
    /// fill it (its raw bytes cut or zero-padded): a consistent tensor of the wrong shape. (A tensor whose values do not
    /// fill its dims is refused earlier, naming the tensor.)</summary>
    private static void Reshape(TensorProto tensor, int axis, long size)
    {
        tensor.Dims[axis] = size;
        long count = tensor.Dims.Aggregate(1L, (a, b) => a * b);
        var bytes = new byte[count * 4];
        tensor.RawData.Span[..(int)Math.Min(bytes.Length, tensor.RawData.Length)].CopyTo(bytes);
        tensor.RawData = ByteString.CopyFrom(bytes);
    }

    private static ModelProto ExportLeNet(out Compress.Engine.Models.ClassifierModel model)
    {
        model = ExportFixtures.Load("lenet5");
        return OnnxExporter.Export(model);
    }

    [Fact]
    public void Validate_NodeReadsALaterValue_ThrowsCmp0502NamingTheNode()
    {
        var proto = ExportLeNet(out var model);
        using var _ = model;
        var nodes = proto.Graph.Node;
        var relu = nodes[1];
        nodes.RemoveAt(1);
        nodes.Insert(2, relu); // pool1 now reads relu1 before it is written
        var e = Assert.Throws<CompressException>(() => OnnxVerifier.Validate(proto));
        Assert.Equal(DiagnosticCode.InvalidOnnxGraph, e.Code);
        Assert.Contains("'pool1'", e.Message, StringComparison.Ordinal);
        Assert.Contains("'relu1'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_DuplicateValueName_ThrowsCmp0502()
    {
        var proto = ExportLeNet(out var model);
        using var _ = model;
        proto.Graph.Node.Single(n => n.Name == "relu2").Output[0] = "relu1";
        var e = Assert.Throws<CompressException>(() => OnnxVerifier.Validate(proto));
        Assert.Equal(DiagnosticCode.InvalidOnnxGraph, e.Code);
        Assert.Contains("'relu2'", e.Message, StringComparison.Ordinal);
        Assert.Contains("already defined", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_ConvWeightChannelsDoNotFitItsInput_ThrowsCmp0502WithShapes()
    {
        using var model = ExportFixtures.Load("resnet18-cifar");
        var proto = OnnxExporter.Export(model, new OnnxExportOptions { FoldBatchNorm = false });
        // layer1.0.conv2 reads 8 channels; claim its weight takes 4.
        var weight = proto.Graph.Initializer.Single(i => i.Name == "layer1.0.conv2.weight");
        Assert.Equal(8, weight.Dims[1]);
        Reshape(weight, 1, 4);
        var e = Assert.Throws<CompressException>(() => OnnxVerifier.Validate(proto));
        Assert.Equal(DiagnosticCode.InvalidOnnxGraph, e.Code);
        Assert.Contains("'layer1.0.conv2'", e.Message, StringComparison.Ordinal);
        Assert.Contains("8 channels", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_GemmFeaturesDoNotFit_ThrowsCmp0502()
    {
        var proto = ExportLeNet(out var model);
        using var _ = model;
        Reshape(proto.Graph.Initializer.Single(i => i.Name == "fc1.weight"), 1, 399);
        var e = Assert.Throws<CompressException>(() => OnnxVerifier.Validate(proto));
        Assert.Equal(DiagnosticCode.InvalidOnnxGraph, e.Code);
        Assert.Contains("'fc1'", e.Message, StringComparison.Ordinal);
        Assert.Contains("400 features", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_BatchNormParameterLength_ThrowsCmp0502()
    {
        using var model = ExportFixtures.Load("vgg-cifar");
        var proto = OnnxExporter.Export(model, new OnnxExportOptions { FoldBatchNorm = false });
        var mean = proto.Graph.Initializer.Single(i => i.Name == "backbone.bn3.running_mean");
        Reshape(mean, 0, mean.Dims[0] + 1);
        var e = Assert.Throws<CompressException>(() => OnnxVerifier.Validate(proto));
        Assert.Equal(DiagnosticCode.InvalidOnnxGraph, e.Code);
        Assert.Contains("'backbone.bn3'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_UndefinedGraphOutput_ThrowsCmp0502()
    {
        var proto = ExportLeNet(out var model);
        using var _ = model;
        proto.Graph.Output[0].Name = "scores";
        var e = Assert.Throws<CompressException>(() => OnnxVerifier.Validate(proto));
        Assert.Equal(DiagnosticCode.InvalidOnnxGraph, e.Code);
        Assert.Contains("'scores'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CheckParity_TamperedWeights_ThrowsCmp0503WithTheDifferences()
    {
        var proto = ExportLeNet(out var model);
        using var _ = model;
        var bias = proto.Graph.Initializer.Single(i => i.Name == "fc3.bias");
        var values = new float[bias.RawData.Length / 4];
        Buffer.BlockCopy(bias.RawData.ToByteArray(), 0, values, 0, bias.RawData.Length);
        values[3] += 0.01f;
        var bytes = new byte[values.Length * 4];
        Buffer.BlockCopy(values, 0, bytes, 0, bytes.Length);
        bias.RawData = ByteString.CopyFrom(bytes);

        OnnxVerifier.Validate(proto); // still structurally fine
        var e = Assert.Throws<CompressException>(() => OnnxVerifier.CheckParity(model, proto.ToByteArray()));
        Assert.Equal(DiagnosticCode.OnnxParityFailed, e.Code);
        Assert.Contains("max |a-b| = 0.01", e.Message, StringComparison.Ordinal);
        Assert.Contains("relative", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CheckParity_ModelInTrainingMode_ComparesInEvalModeAndRestoresTheMode()
    {
        using var model = ExportFixtures.Load("resnet18-cifar");
        byte[] bytes = OnnxExporter.Export(model).ToByteArray();
        model.train();
        var parity = OnnxVerifier.CheckParity(model, bytes);
        Assert.InRange(parity.MaxRelativeDifference, 0, OnnxVerifier.ParityTolerance);
        Assert.True(model.training);
    }

    [Fact]
    public void CheckParity_BytesOnnxRuntimeRejects_ThrowsCmp0502()
    {
        var proto = ExportLeNet(out var model);
        using var _ = model;
        proto.Graph.Node.Single(n => n.Name == "relu1").OpType = "NoSuchOp";
        var e = Assert.Throws<CompressException>(() => OnnxVerifier.CheckParity(model, proto.ToByteArray()));
        Assert.Equal(DiagnosticCode.InvalidOnnxGraph, e.Code);
        Assert.Contains("NoSuchOp", e.Message, StringComparison.Ordinal);
        var structural = Assert.Throws<CompressException>(() => OnnxVerifier.Validate(proto));
        Assert.Contains("NoSuchOp", structural.Message, StringComparison.Ordinal);
    }
}

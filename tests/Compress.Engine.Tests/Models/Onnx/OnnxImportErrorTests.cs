using Compress.Engine.Diagnostics;
using Compress.Engine.Models.Onnx;
using Google.Protobuf;
using Onnx;

namespace Compress.Engine.Tests.Models.Onnx;

/// <summary>Bad ONNX files: each gets its own coded error naming the file and what is wrong, never a stack trace.</summary>
public class OnnxImportErrorTests
{
    private const string Fixture = "resnet18-op17-bnkept.onnx";

    private static ModelProto Load() => ModelProto.Parser.ParseFrom(File.ReadAllBytes(OnnxImportFixtures.Get(Fixture).Path));

    private static CompressException Import(ModelProto model) =>
        Assert.Throws<CompressException>(() => OnnxImporter.Read(model.ToByteArray(), "bad.onnx"));

    [Fact]
    public void Read_MissingFile_Cmp0005NamingIt()
    {
        var e = Assert.Throws<CompressException>(() => OnnxImporter.Read(Path.Combine(OnnxImportFixtures.Folder, "nope.onnx")));
        Assert.Equal(DiagnosticCode.FileNotFound, e.Code);
        Assert.Contains("nope.onnx", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_TruncatedFile_Cmp0504()
    {
        byte[] bytes = File.ReadAllBytes(OnnxImportFixtures.Get(Fixture).Path);
        var e = Assert.Throws<CompressException>(() => OnnxImporter.Read(bytes[..(bytes.Length / 2)], "half.onnx"));
        Assert.Equal(DiagnosticCode.InvalidOnnxModel, e.Code);
        Assert.Contains("half.onnx", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_NotOnnx_Cmp0504()
    {
        var e = Assert.Throws<CompressException>(() => OnnxImporter.Read("hello, this is text"u8.ToArray(), "text.onnx"));
        Assert.Equal(DiagnosticCode.InvalidOnnxModel, e.Code);
    }

    [Fact]
    public void Read_UnsupportedOp_Cmp0110NamesOpNodeInputsHistogramAndSupportedOps()
    {
        var model = Load();
        var relu = model.Graph.Node.First(n => n.OpType == "Relu");
        relu.OpType = "Mish";
        var e = Import(model);
        Assert.Equal(DiagnosticCode.UnsupportedOnnxOp, e.Code);
        Assert.Contains("Mish", e.Message, StringComparison.Ordinal);
        Assert.Contains("'" + relu.Name + "'", e.Message, StringComparison.Ordinal);
        Assert.Contains(relu.Input[0], e.Message, StringComparison.Ordinal);
        Assert.Contains("Conv x20", e.Message, StringComparison.Ordinal); // the op histogram
        Assert.Contains("LayerNormalization", e.Hint, StringComparison.Ordinal); // the supported list
    }

    [Fact]
    public void Read_ControlFlow_Cmp0111()
    {
        var model = Load();
        model.Graph.Node.First(n => n.OpType == "Relu").OpType = "If";
        Assert.Equal(DiagnosticCode.OnnxControlFlow, Import(model).Code);
    }

    [Fact]
    public void Read_HalfPrecisionWeight_Cmp0112NamingTheTensor()
    {
        var model = Load();
        var conv = model.Graph.Node.First(n => n.OpType == "Conv");
        var weight = model.Graph.Initializer.Single(i => i.Name == conv.Input[1]);
        weight.DataType = (int)TensorProto.Types.DataType.Float16;
        var e = Import(model);
        Assert.Equal(DiagnosticCode.OnnxNonFloatWeights, e.Code);
        Assert.Contains(weight.Name, e.Message, StringComparison.Ordinal);
        Assert.Contains("Float16", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_HalfPrecisionInput_Cmp0112()
    {
        var model = Load();
        model.Graph.Input[0].Type.TensorType.ElemType = (int)TensorProto.Types.DataType.Float16;
        Assert.Equal(DiagnosticCode.OnnxNonFloatWeights, Import(model).Code);
    }

    [Fact]
    public void Read_ExternalData_Cmp0113NamingTheTensor()
    {
        var model = Load();
        var weight = model.Graph.Initializer[0];
        weight.DataLocation = TensorProto.Types.DataLocation.External;
        var e = Import(model);
        Assert.Equal(DiagnosticCode.OnnxExternalData, e.Code);
        Assert.Contains(weight.Name, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(9)]
    [InlineData(22)]
    public void Read_OpsetOutsideRange_Cmp0115(int opset)
    {
        var model = Load();
        model.OpsetImport.Single(o => o.Domain.Length == 0).Version = opset;
        var e = Import(model);
        Assert.Equal(DiagnosticCode.UnsupportedOnnxOpset, e.Code);
        Assert.Contains(opset.ToString(System.Globalization.CultureInfo.InvariantCulture), e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_NaNWeight_Cmp0107NamingTheTensor()
    {
        var model = Load();
        var weight = model.Graph.Initializer.Single(i => i.Name == "layer1.0.conv1.weight");
        var values = weight.RawData.ToByteArray();
        BitConverter.GetBytes(float.NaN).CopyTo(values, 8);
        weight.RawData = ByteString.CopyFrom(values);
        var e = Import(model);
        Assert.Equal(DiagnosticCode.NonFiniteWeights, e.Code);
        Assert.Contains("layer1.0.conv1.weight", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("fc.weight", new long[] { 10, 600 }, "bytes for dims [10, 600]")]
    [InlineData("layer1.0.conv1.weight", new long[] { 4, -4, 3, 3 }, "impossible dims [4, -4, 3, 3]")]
    [InlineData("conv1.weight", new long[] { 1L << 40, 1L << 40 }, "impossible dims")]
    public void Read_InitializerWhoseValuesDoNotFillItsDims_Cmp0504NamingIt(string name, long[] dims, string expected)
    {
        // Found by AFL++ (tests/Compress.Fuzz): a Gemm weight with more dims than values was transposed past its end.
        var model = Load();
        var weight = model.Graph.Initializer.Single(i => i.Name == name);
        weight.Dims.Clear();
        weight.Dims.AddRange(dims);
        var e = Import(model);
        Assert.Equal(DiagnosticCode.InvalidOnnxModel, e.Code);
        Assert.Contains($"the tensor '{name}' (read by node '", e.Message, StringComparison.Ordinal);
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_TwoOutputs_Cmp0504()
    {
        var model = Load();
        model.Graph.Output.Add(model.Graph.Output[0].Clone());
        model.Graph.Output[1].Name = model.Graph.Node[0].Output[0];
        Assert.Equal(DiagnosticCode.InvalidOnnxModel, Import(model).Code);
    }

    [Fact]
    public void Read_DynamicImageSize_Cmp0504ExplainsTheInputShape()
    {
        var model = Load();
        model.Graph.Input[0].Type.TensorType.Shape.Dim[2] = new TensorShapeProto.Types.Dimension { DimParam = "height" };
        var e = Import(model);
        Assert.Equal(DiagnosticCode.InvalidOnnxModel, e.Code);
        Assert.Contains("height", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_ImportThatDoesNotReproduceTheFile_Cmp0114()
    {
        // The check runs ONNX Runtime on a file whose first Relu became a Sigmoid, while the import read the original.
        using var model = OnnxImporter.Create(OnnxImporter.Read(OnnxImportFixtures.Get(Fixture).Path));
        var changed = Load();
        changed.Graph.Node.First(n => n.OpType == "Relu").OpType = "Sigmoid";
        var e = Assert.Throws<CompressException>(() => OnnxImporter.Verify(model, changed.ToByteArray()));
        Assert.Equal(DiagnosticCode.OnnxImportMismatch, e.Code);
        Assert.Contains("relative", e.Message, StringComparison.Ordinal);
    }
}

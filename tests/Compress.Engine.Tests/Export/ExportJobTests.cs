using Compress.Engine.Diagnostics;
using Compress.Engine.Export;
using Compress.Engine.Pipeline;
using Compress.Engine.Tests.Models;
using Google.Protobuf;
using Onnx;

namespace Compress.Engine.Tests.Export;

public sealed class ExportJobTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("compress-exportjob-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void Run_PyTorchWeights_WritesAVerifiedFileAndReportsIt()
    {
        var reference = ModelFixtures.Get("resnet18-cifar");
        string output = Path.Combine(_folder, "out", "model.onnx");
        var result = ExportJob.Run(new ExportJob.Options
        {
            Model = reference.Options,
            Weights = reference.CheckpointPath,
            Output = output,
        }, new CollectingSink());

        Assert.Equal(Path.GetFullPath(output), result.Output);
        Assert.Equal(new FileInfo(output).Length, result.FileBytes);
        Assert.Equal(reference.ParameterCount, result.Parameters);
        Assert.Equal(17, result.Opset);
        Assert.True(result.FoldedBatchNorm);
        Assert.InRange(result.MaxRelativeDifference, 0, OnnxVerifier.ParityTolerance);

        var proto = ModelProto.Parser.ParseFrom(File.ReadAllBytes(output));
        Assert.Equal("resnet18-cifar", proto.MetadataProps.Single(p => p.Key == "compress.architecture").Value);
        Assert.Equal("0.125", proto.MetadataProps.Single(p => p.Key == "compress.width_multiplier").Value);
        using var model = ExportFixtures.Load("resnet18-cifar");
        OnnxVerifier.CheckParity(model, File.ReadAllBytes(output), batch: 2, seed: 9);
    }

    [Fact]
    public void Run_SameWeightsTwice_WritesIdenticalFiles()
    {
        var reference = ModelFixtures.Get("lenet5");
        string a = Path.Combine(_folder, "a.onnx"), b = Path.Combine(_folder, "b.onnx");
        foreach (string output in new[] { a, b })
            ExportJob.Run(new ExportJob.Options { Model = reference.Options, Weights = reference.CheckpointPath, Output = output, FoldBatchNorm = false },
                new CollectingSink());
        Assert.Equal(File.ReadAllBytes(a), File.ReadAllBytes(b));
    }

    [Fact]
    public void VerifyAndWrite_ParityFails_ThrowsCmp0503AndLeavesTheExistingFileUntouched()
    {
        using var model = ExportFixtures.Load("lenet5");
        var proto = OnnxExporter.Export(model);
        var weight = proto.Graph.Initializer.Single(i => i.Name == "conv1.weight");
        var bytes = weight.RawData.ToByteArray();
        bytes[3] ^= 0x40; // flip an exponent bit of the first weight
        weight.RawData = ByteString.CopyFrom(bytes);
        string output = Path.Combine(_folder, "model.onnx");
        File.WriteAllText(output, "previous export");

        var e = Assert.Throws<CompressException>(() => ExportJob.VerifyAndWrite(model, proto, output, foldedBatchNorm: true));
        Assert.Equal(DiagnosticCode.OnnxParityFailed, e.Code);
        Assert.Equal("previous export", File.ReadAllText(output));
        Assert.Equal(["model.onnx"], Directory.GetFiles(_folder).Select(Path.GetFileName));
    }

    [Fact]
    public void Run_WeightsOfAnotherWidth_FailsAndLeavesTheExistingFileUntouched()
    {
        var reference = ModelFixtures.Get("resnet18-cifar");
        string output = Path.Combine(_folder, "model.onnx");
        File.WriteAllText(output, "previous export");
        var e = Assert.Throws<CompressException>(() => ExportJob.Run(new ExportJob.Options
        {
            // The checkpoint (width 0.125) is wider than this model: no channel-pruned model of it, so CMP0106.
            Model = reference.Options with { WidthMultiplier = 0.0625 },
            Weights = reference.CheckpointPath,
            Output = output,
        }, new CollectingSink()));
        Assert.Equal(DiagnosticCode.ShapeMismatch, e.Code);
        Assert.Equal("previous export", File.ReadAllText(output));
        Assert.Equal(["model.onnx"], Directory.GetFiles(_folder).Select(Path.GetFileName));
    }
}

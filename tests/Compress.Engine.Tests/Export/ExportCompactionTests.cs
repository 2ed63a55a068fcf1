using Compress.Engine.Diagnostics;
using Compress.Engine.Models;
using Compress.Engine.Pipeline;
using static TorchSharp.torch;

namespace Compress.Engine.Tests.Export;

/// <summary>Compaction of real exports: dead channels found after BatchNorm folding, across residual adds.</summary>
public sealed class ExportCompactionTests : IDisposable
{
    private static readonly ModelOptions Tiny = new() { Architecture = "resnet18-cifar", WidthMultiplier = 0.125 };
    private readonly string _dir = Directory.CreateTempSubdirectory("exportcompact").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    /// <summary>
    /// Zeroes gamma and beta of the given BatchNorms at <paramref name="channel"/>: after folding, that conv output
    /// channel has a zero filter and a zero bias. Random running statistics elsewhere keep the folding non-trivial.
    /// </summary>
    private string Weights(int channel, params string[] batchNorms)
    {
        manual_seed(11);
        using var model = ModelFactory.Create(Tiny);
        using (no_grad())
        {
            foreach (var (name, buffer) in model.named_buffers())
            {
                if (name.EndsWith("running_mean", StringComparison.Ordinal)) buffer.copy_(randn_like(buffer) * 0.1);
                if (name.EndsWith("running_var", StringComparison.Ordinal)) buffer.copy_(rand_like(buffer) + 0.5);
            }
            var parameters = model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
            foreach (var bn in batchNorms)
            {
                parameters[bn + ".weight"][channel] = 0f;
                parameters[bn + ".bias"][channel] = 0f;
            }
        }
        string path = Path.Combine(_dir, $"w{batchNorms.Length}.safetensors");
        Checkpoint.SaveSafetensors(model, path);
        return path;
    }

    private ExportResult Export(string weights) => ExportJob.Run(new ExportJob.Options
    {
        Model = Tiny,
        Weights = weights,
        Output = Path.Combine(_dir, "m.onnx"),
        Compact = true,
    }, DiagnosticSinks.None);

    [Fact]
    public void Compact_ChannelDeadOnEveryBranchOfTheResidualStream_IsRemovedEverywhereAndOutputsStayEqual()
    {
        // Channel 3 of layer1's residual stream: the stem and both blocks' second convs all produce zeros there.
        var result = Export(Weights(3, "bn1", "layer1.0.bn2", "layer1.1.bn2"));
        var c = Assert.IsType<CompactionSummary>(result.Compaction);
        var nodes = c.Nodes.ToDictionary(n => n.WeightName);
        foreach (var producer in new[] { "conv1.weight", "layer1.0.conv2.weight", "layer1.1.conv2.weight" })
        {
            Assert.Equal(nodes[producer].OutChannelsBefore - 1, nodes[producer].OutChannelsAfter);
            Assert.Equal([3], nodes[producer].RemovedOutputChannels);
        }
        foreach (var consumer in new[] { "layer1.0.conv1.weight", "layer1.1.conv1.weight", "layer2.0.conv1.weight", "layer2.0.downsample.0.weight" })
            Assert.Equal(nodes[consumer].InChannelsBefore - 1, nodes[consumer].InChannelsAfter);
        Assert.True(c.ParametersAfter < c.ParametersBefore);
        Assert.True(c.MacsAfter < c.MacsBefore);
        Assert.True(c.BytesAfter < c.BytesBefore);
        Assert.Equal(c.MacsAfter, result.Macs);
        // The export job checked parity of the compacted file against the TorchSharp model (CMP0503 otherwise).
        Assert.InRange(result.MaxRelativeDifference, 0, 1e-4);
        var written = Onnx.ModelProto.Parser.ParseFrom(File.ReadAllBytes(result.Output));
        var stem = written.Graph.Initializer.Single(t => t.Name == "conv1.weight");
        Assert.Equal(nodes["conv1.weight"].OutChannelsAfter, stem.Dims[0]);
    }

    [Fact]
    public void Compact_ChannelDeadOnOneBranchOnly_IsKept()
    {
        // layer1.0's second conv is dead at channel 3, but the identity shortcut carries the stem's live channel 3.
        var result = Export(Weights(3, "layer1.0.bn2"));
        var c = Assert.IsType<CompactionSummary>(result.Compaction);
        Assert.Equal(0, c.RemovedChannels);
        Assert.Equal(c.ParametersBefore, c.ParametersAfter);
    }

    [Fact]
    public void Export_CarriesEngineVersionAndSourceWeightsHash()
    {
        string weights = Weights(0);
        var result = Export(weights);
        var props = Onnx.ModelProto.Parser.ParseFrom(File.ReadAllBytes(result.Output)).MetadataProps.ToDictionary(p => p.Key, p => p.Value);
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(weights))),
            props["compress.source_weights_sha256"]);
        Assert.False(string.IsNullOrEmpty(props["compress.engine_version"]));
    }
}

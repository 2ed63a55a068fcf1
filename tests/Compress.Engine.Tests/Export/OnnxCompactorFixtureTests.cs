using System.Runtime.InteropServices;
using System.Text.Json;
using Compress.Engine.Export;
using Onnx;

namespace Compress.Engine.Tests.Export;

/// <summary>Compaction of a graph written by PyTorch's own exporter (tests/fixtures/onnx-compact).</summary>
public sealed class OnnxCompactorFixtureTests
{
    private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "fixtures", "onnx-compact", name);

    private static float[] ReadFloats(string name) => MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(Fixture(name))).ToArray();

    [Fact]
    public void Compact_TorchExportedResidualModel_RemovesDeadChannelsAndMatchesPyTorch()
    {
        var model = ModelProto.Parser.ParseFrom(File.ReadAllBytes(Fixture("resnet_block.onnx")));
        using var expected = JsonDocument.Parse(File.ReadAllText(Fixture("expected.json")));
        var input = ReadFloats("input.bin");
        var torchLogits = ReadFloats("logits.bin");
        int[] shape = [.. expected.RootElement.GetProperty("input_shape").EnumerateArray().Select(e => e.GetInt32())];

        // torch.onnx folded BatchNorm into the convs, as the project's exporter does.
        Assert.DoesNotContain(model.Graph.Node, n => n.OpType == "BatchNormalization");
        Assert.Contains(model.Graph.Node, n => n.OpType == "Add");

        var r = OnnxCompactor.Compact(model);

        Assert.Equal(expected.RootElement.GetProperty("macs_before").GetInt64(), r.MacsBefore);
        Assert.Equal(expected.RootElement.GetProperty("macs_after").GetInt64(), r.MacsAfter);
        // Output widths in graph order: stem 8 -> 6, layer1.conv1 12 -> 11, conv2 12 -> 11, downsample 12 -> 11.
        var convs = r.Nodes.Where(n => n.OpType == "Conv").ToList();
        Assert.Equal([[1, 6], [0], [3], [3]], convs.Select(n => n.RemovedOutputChannels.ToArray()).ToArray());
        Assert.Equal(11, r.Nodes.Single(n => n.OpType == "Gemm").InChannelsAfter);
        Assert.Equal(10, r.Nodes.Single(n => n.OpType == "Gemm").OutChannelsAfter);

        var before = OnnxTestGraph.Run(model, input, shape);
        var after = OnnxTestGraph.Run(r.Model, input, shape);
        Assert.Equal(torchLogits.Length, after.Length);
        Assert.True(before.Zip(after, (a, b) => Math.Abs(a - b)).Max() <= 1e-6);
        Assert.True(torchLogits.Zip(after, (a, b) => Math.Abs(a - b)).Max() <= 1e-4);
    }
}

using System.Text.Json;
using Compress.Engine.Diagnostics;
using Compress.Engine.Models;
using static TorchSharp.torch;

namespace Compress.Engine.Tests.Models;

public sealed class CheckpointTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("compress-checkpoint-tests-").FullName;

    public static TheoryData<string> FixtureNames => new(ModelFixtures.Names);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [MemberData(nameof(FixtureNames))]
    public void Load_PyTorchCheckpoint_EvalLogitsMatchPyTorch(string fixture)
    {
        var reference = ModelFixtures.Get(fixture);
        using var model = ModelFixtures.Create(reference.Options, seed: 123);
        Checkpoint.Load(model, reference.CheckpointPath);
        model.eval();

        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var logits = model.call(reference.Input()).data<float>().ToArray();
        var expected = reference.Logits.SelectMany(row => row).ToArray();
        Assert.Equal(expected.Length, logits.Length);
        // 1e-4 absolute, and 1e-5 relative to the logit's size (ResNet-56's logits reach ~80).
        for (int i = 0; i < expected.Length; i++)
        {
            double diff = Math.Abs(logits[i] - expected[i]);
            Assert.True(diff <= 1e-4 && diff <= 1e-5 * Math.Max(1, Math.Abs(expected[i])),
                $"logit {i}: ours {logits[i]:R}, PyTorch {expected[i]:R}");
        }
    }

    [Theory]
    [MemberData(nameof(FixtureNames))]
    public void Load_PyTorchCheckpoint_EveryParameterAndBufferHasPyTorchsValues(string fixture)
    {
        var reference = ModelFixtures.Get(fixture);
        using var model = ModelFixtures.Create(reference.Options, seed: 123);
        Checkpoint.Load(model, reference.CheckpointPath);

        var state = model.OrderedStateDict();
        Assert.Equal(reference.StateDictOrder.Length, state.Count);
        for (int i = 0; i < state.Count; i++)
        {
            using var sum = state[i].Value.to(float64).sum();
            double ours = sum.item<double>(), theirs = reference.StateDictSums[i];
            Assert.True(Math.Abs(ours - theirs) <= 1e-6 * Math.Max(1, Math.Abs(theirs)),
                $"{state[i].Key}: ours {ours:R}, PyTorch {theirs:R}");
        }
    }

    [Fact]
    public void Load_PyTorchCheckpoint_KeepsFloat32AndInt64()
    {
        var reference = ModelFixtures.Get("resnet56-cifar");
        using var model = ModelFixtures.Create(reference.Options);
        Checkpoint.Load(model, reference.CheckpointPath);
        var state = model.OrderedStateDict().ToDictionary(s => s.Key, s => s.Value);
        Assert.Equal(ScalarType.Float32, state["layer1.0.conv1.weight"].dtype);
        Assert.Equal(ScalarType.Float32, state["bn1.running_var"].dtype);
        Assert.Equal(ScalarType.Int64, state["bn1.num_batches_tracked"].dtype);
        Assert.Equal(3L, state["bn1.num_batches_tracked"].item<long>()); // three train-mode forwards in make_models.py
        Assert.True(model.parameters().All(p => p.requires_grad));
    }

    [Fact]
    public void Load_LeNet5SeedFixtureSafetensors_MatchesItsReference()
    {
        using var model = ModelFixtures.Create(new ModelOptions { Architecture = "lenet5" }, seed: 99);
        Checkpoint.Load(model, ModelFixtures.LeNet5Safetensors);

        using var json = JsonDocument.Parse(File.ReadAllText(ModelFixtures.LeNet5SafetensorsReference));
        var order = json.RootElement.GetProperty("parameterOrder").EnumerateArray().Select(e => e.GetString()).ToArray();
        Assert.Equal(order, model.named_parameters().Select(p => p.name).ToArray());
        Assert.Equal(json.RootElement.GetProperty("parameterCount").GetInt64(), model.ParameterCount());

        // The loaded values are the file's values.
        var file = Checkpoint.ReadSafetensors(ModelFixtures.LeNet5Safetensors);
        foreach (var (name, p) in model.named_parameters())
            Assert.Equal(file[name].ToSingleArray(), p.data<float>().ToArray());
    }

    [Fact]
    public void SaveSafetensors_RoundTrip_ReadsBackIdenticalValuesInStateDictOrder()
    {
        var reference = ModelFixtures.Get("resnet18-cifar");
        using var model = ModelFixtures.Create(reference.Options);
        Checkpoint.Load(model, reference.CheckpointPath);
        string path = Path.Combine(_dir, "model.safetensors");
        Checkpoint.SaveSafetensors(model, path);

        var read = Checkpoint.ReadSafetensors(path);
        var state = model.OrderedStateDict();
        Assert.Equal(state.Select(s => s.Key), read.Keys);
        foreach (var (key, value) in state)
        {
            Assert.Equal(value.shape, read[key].Shape);
            if (value.dtype == ScalarType.Int64)
            {
                Assert.Equal("I64", read[key].DType);
                Assert.Equal(value.data<long>().ToArray(), read[key].ToDoubleArray().Select(d => (long)d).ToArray());
            }
            else
            {
                Assert.Equal("F32", read[key].DType);
                Assert.Equal(value.data<float>().ToArray(), read[key].ToSingleArray());
            }
        }

        using var copy = ModelFixtures.Create(reference.Options, seed: 77);
        Checkpoint.Load(copy, path);
        var copied = copy.OrderedStateDict();
        for (int i = 0; i < state.Count; i++) Assert.True(state[i].Value.allclose(copied[i].Value, rtol: 0, atol: 0), state[i].Key);
    }

    [Fact]
    public void SaveSafetensors_TwiceSameModel_ByteIdenticalWithAlignedHeaderAndMetadata()
    {
        using var model = ModelFixtures.Create(new ModelOptions { Architecture = "lenet5", WidthMultiplier = 0.5 }, seed: 3);
        var metadata = new Dictionary<string, string> { ["zeta"] = "last", ["format"] = "pt", ["architecture"] = "lenet5" };
        string a = Path.Combine(_dir, "a.safetensors"), b = Path.Combine(_dir, "b.safetensors");
        Checkpoint.SaveSafetensors(model, a, metadata);
        Checkpoint.SaveSafetensors(model, b, new Dictionary<string, string>(metadata.Reverse()));

        byte[] bytesA = File.ReadAllBytes(a);
        Assert.Equal(bytesA, File.ReadAllBytes(b));
        Assert.Equal(0UL, BitConverter.ToUInt64(bytesA, 0) % 8);
        Assert.Equal(metadata, Checkpoint.ReadSafetensorsMetadata(a));
        Assert.Empty(Directory.GetFiles(_dir, "*.tmp"));
        Assert.Empty(Directory.GetFiles(_dir, ".*"));
    }

    [Fact]
    public void Load_Float64AndFloat16Tensors_ConvertedToFloat32()
    {
        using var source = ModelFixtures.Create(new ModelOptions { Architecture = "lenet5", WidthMultiplier = 0.25 }, seed: 4);
        var state = source.OrderedStateDict();
        var tensors = state.Select((s, i) =>
        {
            using var converted = s.Value.detach().to(i % 2 == 0 ? float64 : float16);
            return (s.Key, new TensorData(i % 2 == 0 ? "F64" : "F16", s.Value.shape, converted.bytes.ToArray()));
        }).ToList();
        string path = Path.Combine(_dir, "mixed.safetensors");
        SafetensorsFile.Write(path, tensors, null);

        using var model = ModelFixtures.Create(source.Options, seed: 5);
        Checkpoint.Load(model, path);
        var loaded = model.OrderedStateDict();
        for (int i = 0; i < state.Count; i++)
        {
            Assert.Equal(ScalarType.Float32, loaded[i].Value.dtype);
            using var expected = state[i].Value.detach().to(i % 2 == 0 ? float64 : float16).to(float32);
            Assert.True(expected.allclose(loaded[i].Value, rtol: 0, atol: 0), loaded[i].Key);
        }
    }

    [Fact]
    public void Load_MissingKey_ThrowsCmp0104NamingKeyAndLeavesModelUnchanged()
    {
        var (model, path) = SaveLeNetWith(tensors => tensors.RemoveAll(t => t.Key == "fc2.bias"));
        using var _ = model;
        using var before = Snapshot(model);
        var e = Assert.Throws<CompressException>(() => Checkpoint.Load(model, path));
        Assert.Equal(DiagnosticCode.MissingKeys, e.Code);
        Assert.Contains("'fc2.bias'", e.Message, StringComparison.Ordinal);
        Assert.Equal(path, e.FilePath);
        using var after = Snapshot(model);
        Assert.True(before.allclose(after, rtol: 0, atol: 0));
    }

    [Fact]
    public void Load_ExtraKey_ThrowsCmp0105NamingKey()
    {
        var (model, path) = SaveLeNetWith(tensors =>
            tensors.Add(("fc4.weight", new TensorData("F32", [2], new byte[8]))));
        using var _ = model;
        var e = Assert.Throws<CompressException>(() => Checkpoint.Load(model, path));
        Assert.Equal(DiagnosticCode.UnexpectedKeys, e.Code);
        Assert.Contains("'fc4.weight'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_WrongShape_ThrowsCmp0106NamingKeyAndBothShapes()
    {
        var (model, path) = SaveLeNetWith(tensors =>
        {
            int i = tensors.FindIndex(t => t.Key == "fc3.weight");
            tensors[i] = ("fc3.weight", new TensorData("F32", [12, 21], new byte[12 * 21 * 4]));
        });
        using var _ = model;
        using var before = Snapshot(model);
        var e = Assert.Throws<CompressException>(() => Checkpoint.Load(model, path));
        Assert.Equal(DiagnosticCode.ShapeMismatch, e.Code);
        Assert.Contains("'fc3.weight'", e.Message, StringComparison.Ordinal);
        Assert.Contains("[12, 21]", e.Message, StringComparison.Ordinal);
        Assert.Contains("[10, 21]", e.Message, StringComparison.Ordinal);
        using var after = Snapshot(model);
        Assert.True(before.allclose(after, rtol: 0, atol: 0));
    }

    [Theory]
    [InlineData(float.NaN, "NaN")]
    [InlineData(float.PositiveInfinity, "+infinity")]
    public void Load_NonFiniteValue_ThrowsCmp0107NamingTensor(float bad, string word)
    {
        var (model, path) = SaveLeNetWith(tensors =>
        {
            int i = tensors.FindIndex(t => t.Key == "conv2.weight");
            var data = (byte[])tensors[i].Tensor.Data.Clone();
            BitConverter.GetBytes(bad).CopyTo(data, 4 * 5);
            tensors[i] = (tensors[i].Key, tensors[i].Tensor with { Data = data });
        });
        using var _ = model;
        using var before = Snapshot(model);
        var e = Assert.Throws<CompressException>(() => Checkpoint.Load(model, path));
        Assert.Equal(DiagnosticCode.NonFiniteWeights, e.Code);
        Assert.Contains("'conv2.weight'", e.Message, StringComparison.Ordinal);
        Assert.Contains(word + " at element 5", e.Message, StringComparison.Ordinal);
        using var after = Snapshot(model);
        Assert.True(before.allclose(after, rtol: 0, atol: 0));
    }

    [Fact]
    public void Load_IntegerDataForFloatParameter_ThrowsCmp0108()
    {
        var (model, path) = SaveLeNetWith(tensors =>
        {
            int i = tensors.FindIndex(t => t.Key == "fc1.bias");
            tensors[i] = (tensors[i].Key, tensors[i].Tensor with { DType = "I32" });
        });
        using var _ = model;
        var e = Assert.Throws<CompressException>(() => Checkpoint.Load(model, path));
        Assert.Equal(DiagnosticCode.UnsupportedDType, e.Code);
        Assert.Contains("'fc1.bias'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_MissingFile_ThrowsCmp0005()
    {
        using var model = ModelFactory.Create(new ModelOptions { Architecture = "lenet5" });
        string path = Path.Combine(_dir, "nope.safetensors");
        var e = Assert.Throws<CompressException>(() => Checkpoint.Load(model, path));
        Assert.Equal(DiagnosticCode.FileNotFound, e.Code);
        Assert.Equal(path, e.FilePath);
    }

    [Fact]
    public void Load_DataParallelPrefixedSafetensors_StripsPrefix()
    {
        var (model, path) = SaveLeNetWith(tensors =>
        {
            for (int i = 0; i < tensors.Count; i++) tensors[i] = ("module." + tensors[i].Key, tensors[i].Tensor);
        });
        using var _ = model;
        Checkpoint.Load(model, path);
        var clean = Checkpoint.ReadSafetensors(Path.Combine(_dir, "clean.safetensors"));
        foreach (var (name, p) in model.named_parameters())
            Assert.Equal(clean[name].ToSingleArray(), p.data<float>().ToArray());
    }

    [Fact]
    public void Load_UnknownFormat_ThrowsCmp0103WithLeadingBytes()
    {
        using var model = ModelFactory.Create(new ModelOptions { Architecture = "lenet5" });
        string path = Path.Combine(_dir, "weights.bin");
        File.WriteAllBytes(path, [0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8]);
        var e = Assert.Throws<CompressException>(() => Checkpoint.Load(model, path));
        Assert.Equal(DiagnosticCode.CorruptWeights, e.Code);
        Assert.Contains("de ad be ef", e.Message, StringComparison.Ordinal);
        Assert.Equal(path, e.FilePath);
    }

    [Fact]
    public void Load_LegacyTorchSaveFormat_ThrowsCmp0103SayingSo()
    {
        using var model = ModelFactory.Create(new ModelOptions { Architecture = "lenet5" });
        string path = Path.Combine(_dir, "legacy.pt");
        // The legacy format starts with a protocol-2 pickle of torch's magic number.
        File.WriteAllBytes(path, [0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19]);
        var e = Assert.Throws<CompressException>(() => Checkpoint.Load(model, path));
        Assert.Equal(DiagnosticCode.CorruptWeights, e.Code);
        Assert.Contains("legacy", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadStateDict_WrappedPrefixedViewsCheckpoint_UnwrapsAndGathersViews()
    {
        var reference = ModelFixtures.Get("lenet5-wrapped");
        var state = Checkpoint.ReadStateDict(reference.CheckpointPath);
        Assert.Equal(reference.StateDictOrder, state.Keys);
        for (int i = 0; i < reference.StateDictOrder.Length; i++)
        {
            var t = state[reference.StateDictOrder[i]];
            Assert.Equal(reference.StateDictShapes[i], t.Shape);
            Assert.Equal(reference.StateDictSums[i], t.ToDoubleArray().Sum(), 1e-9);
        }
        // conv1.bias was saved as a view at storage offset 5 into [7 x5, bias, 9 x3]: none of the padding leaks in.
        Assert.DoesNotContain(state["conv1.bias"].ToSingleArray(), v => v is 7f or 9f);
    }

    private (ClassifierModel Model, string Path) SaveLeNetWith(Action<List<(string Key, TensorData Tensor)>> edit)
    {
        var model = ModelFixtures.Create(new ModelOptions { Architecture = "lenet5", WidthMultiplier = 0.25 }, seed: 11);
        string clean = Path.Combine(_dir, "clean.safetensors");
        Checkpoint.SaveSafetensors(model, clean);
        var tensors = Checkpoint.ReadSafetensors(clean).Select(kv => (kv.Key, kv.Value)).ToList();
        edit(tensors);
        string path = Path.Combine(_dir, "edited.safetensors");
        SafetensorsFile.Write(path, tensors, null);
        // Start from different weights so that a load that silently did nothing would be noticed.
        using (no_grad())
            foreach (var p in model.parameters()) p.add_(1.0f);
        return (model, path);
    }

    private static Tensor Snapshot(ClassifierModel model) =>
        cat(model.parameters().Select(p => p.detach().flatten()).ToList(), 0);
}

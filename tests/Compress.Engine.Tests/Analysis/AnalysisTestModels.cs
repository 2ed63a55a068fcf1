using System.Buffers.Binary;
using System.Text.Json;
using TorchSharp;
using static TorchSharp.torch;

namespace Compress.Engine.Tests.Analysis;

/// <summary>Small seeded modules and the LeNet-5 fixture for the analysis and pruning tests.</summary>
internal static class AnalysisTestModels
{
    public static string FixtureDirectory => Path.Combine(AppContext.BaseDirectory, "fixtures", "lenet5-seed0");

    /// <summary>LeNet-5 with the fixture's parameter names (conv1, conv2, fc1, fc2, fc3), default init.</summary>
    public static nn.Module LeNet5() => nn.Sequential(
        ("conv1", nn.Conv2d(1, 6, 5, padding: 2)),
        ("relu1", nn.ReLU()),
        ("conv2", nn.Conv2d(6, 16, 5)),
        ("relu2", nn.ReLU()),
        ("fc1", nn.Linear(400, 120)),
        ("fc2", nn.Linear(120, 84)),
        ("fc3", nn.Linear(84, 10)));

    /// <summary>LeNet-5 with the fixture's weights.</summary>
    public static nn.Module LoadFixtureLeNet5()
    {
        var model = LeNet5();
        var tensors = ReadSafetensorsF32(Path.Combine(FixtureDirectory, "lenet5-seed0.safetensors"));
        using var noGrad = torch.no_grad();
        foreach (var (name, parameter) in model.named_parameters())
        {
            var (shape, data) = tensors[name];
            Assert.Equal(shape, parameter.shape);
            using var source = torch.tensor(data).reshape(shape);
            parameter.copy_(source);
        }
        return model;
    }

    public static JsonDocument LoadReference() =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(FixtureDirectory, "reference.json")));

    /// <summary>A minimal safetensors reader for F32 tensors (the real loader lives elsewhere).</summary>
    public static Dictionary<string, (long[] Shape, float[] Data)> ReadSafetensorsF32(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        long headerLength = BinaryPrimitives.ReadInt64LittleEndian(bytes);
        using var header = JsonDocument.Parse(bytes.AsMemory(8, (int)headerLength));
        var result = new Dictionary<string, (long[], float[])>(StringComparer.Ordinal);
        foreach (var entry in header.RootElement.EnumerateObject())
        {
            if (entry.Name == "__metadata__") continue;
            Assert.Equal("F32", entry.Value.GetProperty("dtype").GetString());
            long[] shape = [.. entry.Value.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64())];
            var offsets = entry.Value.GetProperty("data_offsets");
            int begin = (int)(8 + headerLength + offsets[0].GetInt64());
            int end = (int)(8 + headerLength + offsets[1].GetInt64());
            var data = new float[(end - begin) / 4];
            for (int i = 0; i < data.Length; i++) data[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(begin + 4 * i));
            result[entry.Name] = (shape, data);
        }
        return result;
    }

    /// <summary>
    /// A small conv/BN/linear network with seeded random weights; <paramref name="quantize"/> rounds weights to a
    /// coarse grid so many |w| tie, <paramref name="zeroFraction"/> zeroes some entries.
    /// </summary>
    public static nn.Module RandomConvNet(int seed, bool quantize = false, double zeroFraction = 0)
    {
        var model = nn.Sequential(
            ("conv", nn.Conv2d(3, 8, 3)),
            ("bn", nn.BatchNorm2d(8)),
            ("conv2", nn.Conv2d(8, 16, 3, bias: false)),
            ("bn2", nn.BatchNorm2d(16)),
            ("fc", nn.Linear(64, 32)),
            ("head", nn.Linear(32, 10)));
        var random = new Random(seed);
        using var noGrad = torch.no_grad();
        foreach (var (_, parameter) in model.named_parameters())
        {
            var values = new float[parameter.numel()];
            for (int i = 0; i < values.Length; i++)
            {
                double v = Gaussian(random) * 0.1 + (random.NextDouble() < 0.05 ? 1.0 : 0.0);
                if (quantize) v = Math.Round(v * 20) / 20;
                if (random.NextDouble() < zeroFraction) v = 0;
                values[i] = (float)v;
            }
            using var source = torch.tensor(values).reshape(parameter.shape);
            parameter.copy_(source);
        }
        return model;
    }

    /// <summary>Sets <paramref name="module"/>'s parameters, in order, to the given values (shapes must match).</summary>
    public static void SetParameters(nn.Module module, params float[][] values)
    {
        using var noGrad = torch.no_grad();
        int i = 0;
        foreach (var (_, parameter) in module.named_parameters())
        {
            using var source = torch.tensor(values[i++]).reshape(parameter.shape);
            parameter.copy_(source);
        }
        Assert.Equal(values.Length, i);
    }

    /// <summary>All trainable parameters flattened in module order, as float.</summary>
    public static float[] Flatten(nn.Module module)
    {
        using var scope = torch.NewDisposeScope();
        var all = new List<float>();
        foreach (var (_, parameter) in module.named_parameters())
        {
            if (!parameter.requires_grad) continue;
            var cpu = parameter.detach().cpu().to(ScalarType.Float32);
            all.AddRange(cpu.data<float>().ToArray());
        }
        return [.. all];
    }

    private static double Gaussian(Random random)
    {
        double u1 = 1.0 - random.NextDouble(), u2 = random.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }
}

using Compress.Engine.Data;
using Compress.Engine.Models;
using Compress.Engine.Pipeline;

namespace Compress.Engine.Tests;

/// <summary>Tiny seeded models and a small synthetic dataset shared by the training and pipeline tests.</summary>
internal static class TinySetup
{
    /// <summary>resnet18-cifar at width 1/16 (4..32 channels): trains a batch in milliseconds.</summary>
    public static ModelOptions TinyResNet { get; } = new() { Architecture = "resnet18-cifar", WidthMultiplier = 0.0625 };

    /// <summary>A few hundred synthetic images, cached once per machine by the generator.</summary>
    public static DataOptions SmallData { get; } = new()
    {
        Source = "synthetic",
        Synthetic = new SyntheticDataOptions { Seed = 7, TrainCount = 320, TestCount = 160 },
    };

    private static readonly Lazy<DatasetSplits> Splits = new(() => SmallData.Load());

    public static DatasetSplits Data => Splits.Value;

    /// <summary>One quick epoch: batch 32, SGD lr 0.05, momentum 0.9, weight decay 5e-4 (10 steps on <see cref="Data"/>).</summary>
    public static Compress.Engine.Training.TrainingOptions QuickTraining { get; } = new()
    {
        Epochs = 1,
        BatchSize = 32,
        Sgd = new Compress.Engine.Training.SgdOptions { LearningRate = 0.05, Momentum = 0.9, WeightDecay = 5e-4 },
    };

    /// <summary>Every parameter's values by name, copied out.</summary>
    public static Dictionary<string, float[]> Weights(TorchSharp.torch.nn.Module model) =>
        model.named_parameters().ToDictionary(p => p.name, p => p.parameter.data<float>().ToArray());
}

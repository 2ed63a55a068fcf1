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
}

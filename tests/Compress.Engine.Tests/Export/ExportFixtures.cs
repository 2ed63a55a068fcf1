using Compress.Engine.Models;
using Compress.Engine.Tests.Models;

namespace Compress.Engine.Tests.Export;

/// <summary>The PyTorch fixture models (small widths, non-trivial BatchNorm statistics) for the export tests.</summary>
internal static class ExportFixtures
{
    public static IReadOnlyList<string> Names { get; } = ["resnet18-cifar", "resnet18", "resnet56-cifar", "vgg-cifar", "lenet5"];

    /// <summary>The fixture's model with its PyTorch weights, in eval mode.</summary>
    public static ClassifierModel Load(string fixture)
    {
        var reference = ModelFixtures.Get(fixture);
        var model = ModelFactory.Create(reference.Options);
        Checkpoint.Load(model, reference.CheckpointPath);
        model.eval();
        return model;
    }
}

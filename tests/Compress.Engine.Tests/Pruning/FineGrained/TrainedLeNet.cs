using System.Globalization;
using Compress.Engine.Data;
using Compress.Engine.Models;
using Compress.Engine.Pipeline;
using Compress.Engine.Training;
using static TorchSharp.torch;

namespace Compress.Engine.Tests.Pruning.FineGrained;

/// <summary>
/// LeNet-5 trained once (seed 0) on an easy seeded dataset, so that pruning visibly costs accuracy: 28x28 grey images
/// whose class is which of ten 2-row bands holds a bright bar, on uniform noise. The tiny
/// ResNet on the synthetic shapes stays near chance in a test's time budget, where a drop in accuracy means nothing.
/// </summary>
public sealed class TrainedLeNet : IDisposable
{
    private readonly ClassifierModel _model;

    public TrainedLeNet()
    {
        Train = Bars(seed: 1, count: 600);
        Test = Bars(seed: 2, count: 200);
        Normalization = Normalization.FromDataset(Train);
        _model = ModelLoader.Create(new ModelOptions { Architecture = "lenet5" }, null, CPU, 0);
        new Trainer(_model, CPU).Train(Train, Normalization, new TrainingOptions
        {
            Epochs = 3, BatchSize = 32, Augment = false, Sgd = new SgdOptions { LearningRate = 0.01 },
        });
        DenseAccuracy = Evaluator.Evaluate(_model, Test, Normalization, CPU).Accuracy;
    }

    public InMemoryImageDataset Train { get; }
    public InMemoryImageDataset Test { get; }
    public Normalization Normalization { get; }

    /// <summary>Test accuracy right after training (the tests expect a well-trained model).</summary>
    public double DenseAccuracy { get; }

    /// <summary>A fresh copy of the trained model.</summary>
    public ClassifierModel Load()
    {
        var copy = ModelLoader.Create(new ModelOptions { Architecture = "lenet5" }, null, CPU, 0);
        using var noGrad = no_grad();
        var source = _model.state_dict();
        foreach (var (name, tensor) in copy.state_dict()) tensor.copy_(source[name]);
        return copy;
    }

    public void Dispose() => _model.Dispose();

    /// <summary>Class c: a bright bar over rows 2c+4 and 2c+5 at a random column offset, on noise.</summary>
    private static InMemoryImageDataset Bars(int seed, int count)
    {
        var random = new Random(seed);
        var pixels = new byte[count * 28 * 28];
        var labels = new byte[count];
        for (int i = 0; i < count; i++)
        {
            int label = i % 10;
            labels[i] = (byte)label;
            var image = pixels.AsSpan(i * 784, 784);
            for (int p = 0; p < 784; p++) image[p] = (byte)random.Next(0, 90);
            int start = random.Next(0, 10);
            for (int row = 2 * label + 4; row < 2 * label + 6; row++)
                for (int col = start; col < start + 18; col++) image[row * 28 + col] = (byte)random.Next(180, 256);
        }
        var names = Enumerable.Range(0, 10).Select(c => c.ToString(CultureInfo.InvariantCulture)).ToArray();
        return new InMemoryImageDataset(new ImageShape(1, 28, 28), pixels, labels, names, $"bars(seed={seed})");
    }
}

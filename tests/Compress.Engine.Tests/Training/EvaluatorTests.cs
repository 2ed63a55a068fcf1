using Compress.Engine.Data;
using Compress.Engine.Pipeline;
using Compress.Engine.Training;
using static TorchSharp.torch;

namespace Compress.Engine.Tests.Training;

public class EvaluatorTests
{
    /// <summary>Accuracy and loss computed independently: one image at a time, normalised by hand.</summary>
    private static (double Accuracy, double Loss) ByHand(nn.Module<Tensor, Tensor> model, IImageDataset data, Normalization norm)
    {
        model.eval();
        int correct = 0;
        double loss = 0;
        var shape = data.Shape;
        int plane = shape.Height * shape.Width;
        using var _ = no_grad();
        for (int i = 0; i < data.Count; i++)
        {
            using var scope = NewDisposeScope();
            var pixels = data.GetPixels(i);
            var x = new float[pixels.Length];
            for (int j = 0; j < x.Length; j++)
            {
                int c = j / plane;
                x[j] = (pixels[j] / 255f - norm.Mean[c]) / norm.Std[c];
            }
            var logits = model.forward(tensor(x).reshape(1, shape.Channels, shape.Height, shape.Width));
            var logp = nn.functional.log_softmax(logits, 1).data<float>().ToArray();
            int label = data.GetLabel(i);
            loss -= logp[label];
            if (Array.IndexOf(logp, logp.Max()) == label) correct++;
        }
        return (100.0 * correct / data.Count, loss / data.Count);
    }

    [Fact]
    public void Evaluate_TinyModel_MatchesPerImageComputation()
    {
        using var model = ModelLoader.Create(TinySetup.TinyResNet, null, CPU, 0);
        var data = TinySetup.Data;
        var norm = Normalization.FromDataset(data.Train);
        // Some training so that BatchNorm running statistics are not the defaults and predictions vary.
        new Trainer(model, CPU).Train(data.Train, norm, new TrainingOptions { Epochs = 1, BatchSize = 32, Sgd = new SgdOptions { LearningRate = 0.05 } });
        var result = Evaluator.Evaluate(model, data.Test, norm, CPU, batchSize: 64);
        var (accuracy, loss) = ByHand(model, data.Test, norm);
        Assert.Equal(data.Test.Count, result.Count);
        Assert.Equal(accuracy, result.Accuracy, 9);
        Assert.Equal(loss, result.Loss, 4);
    }

    [Fact]
    public void Evaluate_BatchSizeDoesNotChangeTheResult()
    {
        using var model = ModelLoader.Create(TinySetup.TinyResNet, null, CPU, 5);
        var data = TinySetup.Data;
        var norm = Normalization.FromDataset(data.Train);
        var a = Evaluator.Evaluate(model, data.Test, norm, CPU, batchSize: 16);
        var b = Evaluator.Evaluate(model, data.Test, norm, CPU, batchSize: 160);
        Assert.Equal(a.Accuracy, b.Accuracy);
        Assert.Equal(a.Loss, b.Loss, 4);
    }
}

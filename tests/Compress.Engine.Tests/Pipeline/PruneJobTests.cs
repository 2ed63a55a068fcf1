using Compress.Engine.Diagnostics;
using Compress.Engine.Pipeline;
using Compress.Engine.Training;

namespace Compress.Engine.Tests.Pipeline;

public sealed class PruneJobTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("prunejob").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    private string TrainBaseline()
    {
        string path = Path.Combine(_dir, "baseline.safetensors");
        TrainJob.Run(new TrainJob.Options
        {
            Model = TinySetup.TinyResNet,
            Data = TinySetup.SmallData,
            Training = new TrainingOptions { Epochs = 2, BatchSize = 32, Sgd = new SgdOptions { LearningRate = 0.05 } },
            OutputPath = path,
        }, DiagnosticSinks.None);
        return path;
    }

    [Fact]
    public void Run_SafeRate_PrunesToThatRateKeepsZerosAndWritesWeights()
    {
        string baseline = TrainBaseline();
        string output = Path.Combine(_dir, "pruned.safetensors");
        string plot = Path.Combine(_dir, "cosine.png");
        var result = PruneJob.Run(new PruneJob.Options
        {
            Model = TinySetup.TinyResNet,
            Weights = baseline,
            Data = TinySetup.SmallData,
            Rate = "safe",
            FineTune = TrainingOptions.PaperFineTune with { BatchSize = 64 },
            OutputPath = output,
            PlotPath = plot,
        }, DiagnosticSinks.None);

        Assert.Equal("safe", result.RateSource);
        Assert.Equal(result.Analysis.SafeRate, result.Rate);
        Assert.InRange(result.Rate, 0.01, result.Analysis.Knee.Rate);
        Assert.Equal(Math.Round(result.Rate * result.Parameters, MidpointRounding.ToEven), result.PrunedCount);
        Assert.True(result.Sparsity >= (double)result.PrunedCount / result.Parameters, "pruned weights must still be zero after fine-tuning");
        foreach (var acc in new[] { result.AccuracyBefore, result.AccuracyAfterPrune, result.AccuracyAfterFinetune })
            Assert.InRange(acc, 0, 100);
        Assert.True(File.Exists(output));
        Assert.True(new FileInfo(plot).Length > 1000);

        // The written weights are the pruned ones: evaluating them gives the fine-tuned accuracy and the sparsity.
        var evaluated = EvaluateJob.Run(new EvaluateJob.Options { Model = TinySetup.TinyResNet, Weights = output, Data = TinySetup.SmallData },
            DiagnosticSinks.None);
        Assert.Equal(result.AccuracyAfterFinetune, evaluated.Accuracy, 6);
        Assert.Equal(result.Sparsity, evaluated.Sparsity, 9);
    }

    [Fact]
    public void Run_ExplicitRate_UsesIt()
    {
        string baseline = TrainBaseline();
        var result = PruneJob.Run(new PruneJob.Options
        {
            Model = TinySetup.TinyResNet, Weights = baseline, Data = TinySetup.SmallData, Rate = "0.3",
            FineTune = TrainingOptions.PaperFineTune with { Epochs = 0 },
        }, DiagnosticSinks.None);
        Assert.Equal(0.3, result.Rate);
        Assert.Equal("explicit", result.RateSource);
        Assert.Equal(result.AccuracyAfterPrune, result.AccuracyAfterFinetune);
    }

    [Theory]
    [InlineData("1.5")]
    [InlineData("-0.1")]
    [InlineData("half")]
    public void Run_BadRate_FailsWithCmp0301AndLeavesPreviousOutputUntouched(string rate)
    {
        string output = Path.Combine(_dir, "previous.safetensors");
        File.WriteAllText(output, "previous good artifact");
        var e = Assert.Throws<CompressException>(() => PruneJob.Run(new PruneJob.Options
        {
            Model = TinySetup.TinyResNet, Weights = "does-not-matter.safetensors", Rate = rate, OutputPath = output,
        }, DiagnosticSinks.None));
        Assert.Equal(DiagnosticCode.InvalidRate, e.Code);
        Assert.Equal("previous good artifact", File.ReadAllText(output));
    }

    [Fact]
    public void Run_MissingWeights_FailsWithCmp0005NamingTheFile()
    {
        string missing = Path.Combine(_dir, "missing.safetensors");
        var e = Assert.Throws<CompressException>(() => PruneJob.Run(new PruneJob.Options
        {
            Model = TinySetup.TinyResNet, Weights = missing, Data = TinySetup.SmallData,
        }, DiagnosticSinks.None));
        Assert.Equal(DiagnosticCode.FileNotFound, e.Code);
        Assert.Contains("missing.safetensors", e.Format(), StringComparison.Ordinal);
    }

    [Fact]
    public void Run_DataWithMoreClassesThanModel_FailsWithCmp0205()
    {
        var e = Assert.Throws<CompressException>(() => TrainJob.Run(new TrainJob.Options
        {
            Model = TinySetup.TinyResNet with { Classes = 5 },
            Data = TinySetup.SmallData,
            Training = new TrainingOptions { Epochs = 1 },
        }, DiagnosticSinks.None));
        Assert.Equal(DiagnosticCode.DatasetModelMismatch, e.Code);
    }
}

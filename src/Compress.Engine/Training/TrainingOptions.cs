using System.Globalization;
using Compress.Engine.Diagnostics;

namespace Compress.Engine.Training;

/// <summary>How to train or fine-tune. Validated once by <see cref="Validate"/> at the boundary.</summary>
public sealed record TrainingOptions
{
    /// <summary>Passes over the training split (default 1; 0 means no training).</summary>
    public int Epochs { get; init; } = 1;

    /// <summary>Images per optimizer step (default 64).</summary>
    public int BatchSize { get; init; } = 64;

    /// <summary>Optimizer settings.</summary>
    public SgdOptions Sgd { get; init; } = new();

    /// <summary>Cosine-anneal the learning rate from its start value to 0 over all steps (default off).</summary>
    public bool CosineSchedule { get; init; }

    /// <summary>
    /// Steps of linear learning-rate warm-up from near 0 to the start rate (default 0). Helps a freshly initialised
    /// network through its first, unstable steps at a high rate.
    /// </summary>
    public int WarmupSteps { get; init; }

    /// <summary>Per-sample random crop (4-pixel padding) and horizontal flip (default on).</summary>
    public bool Augment { get; init; } = true;

    /// <summary>Seed for shuffling and augmentation (default 0).</summary>
    public int Seed { get; init; }

    /// <summary>
    /// Memory layout of batches and convolution weights while training (default <see cref="MemoryFormat.Auto"/>:
    /// channels-last for wide convolutions, <see cref="ChannelsLastLayout.Decide"/>). Results are deterministic per
    /// setting; the two layouts differ in the last bits (different convolution kernels).
    /// </summary>
    public MemoryFormat MemoryFormat { get; init; }

    /// <summary>
    /// Arithmetic of the convolutions and linear layers while training (default <see cref="TrainingPrecision.Float32"/>;
    /// <see cref="TrainingPrecision.BFloat16"/> is mixed precision with float32 master weights). Not with the
    /// decorrelation regulariser.
    /// </summary>
    public TrainingPrecision Precision { get; init; }

    /// <summary>Images per batch during evaluation (default 256).</summary>
    public int EvaluationBatchSize { get; init; } = 256;

    /// <summary>
    /// Weight alpha of the decorrelation regulariser (<see cref="DecorrelationRegularizer"/>, summed over the conv
    /// weights) added to the cross-entropy: loss = CE + alpha x sum R(W). Default 0 (off). The reported loss is the
    /// cross-entropy alone.
    /// </summary>
    public double Decorrelation { get; init; }

    /// <summary>Which regulariser <see cref="Decorrelation"/> weighs: <see cref="DecorrelationVariant.Pearson"/> (default)
    /// or the source project's <see cref="DecorrelationVariant.Literal"/> one, for comparison.</summary>
    public DecorrelationVariant DecorrelationVariant { get; init; }

    /// <summary>
    /// The paper's fine-tuning recipe (Mason-Williams &amp; Dahlqvist, ICLR 2024): SGD lr 0.001, momentum 0.9,
    /// batch 256, one epoch, no weight decay, no schedule.
    /// </summary>
    public static TrainingOptions PaperFineTune { get; } = new()
    {
        Epochs = 1,
        BatchSize = 256,
        Sgd = new SgdOptions { LearningRate = 0.001, Momentum = 0.9, WeightDecay = 0 },
    };

    /// <summary>
    /// A baseline recipe for small CIFAR-style data that trains a width-0.25 ResNet-18 to over 90% on the built-in
    /// synthetic set in 5 epochs: batch 64, SGD with Nesterov momentum 0.9, lr 0.08 after 100 warm-up steps, cosine to 0,
    /// weight decay 5e-4, augmentation on.
    /// </summary>
    public static TrainingOptions CifarBaseline { get; } = new()
    {
        Epochs = 5,
        BatchSize = 64,
        CosineSchedule = true,
        WarmupSteps = 100,
        Sgd = new SgdOptions { LearningRate = 0.08, Momentum = 0.9, WeightDecay = 5e-4, Nesterov = true },
    };

    /// <summary>Throws CMP0401 naming the first invalid value.</summary>
    public void Validate()
    {
        if (Epochs < 0) throw Invalid($"epochs must be 0 or more (got {Epochs})");
        if (BatchSize < 1) throw Invalid($"batch size must be at least 1 (got {BatchSize})");
        if (EvaluationBatchSize < 1) throw Invalid($"evaluation batch size must be at least 1 (got {EvaluationBatchSize})");
        if (!(Sgd.LearningRate > 0) || double.IsInfinity(Sgd.LearningRate))
            throw Invalid($"learning rate must be a positive number (got {Sgd.LearningRate.ToString(CultureInfo.InvariantCulture)})");
        if (!(Sgd.Momentum >= 0 && Sgd.Momentum < 1))
            throw Invalid($"momentum must be in [0, 1) (got {Sgd.Momentum.ToString(CultureInfo.InvariantCulture)})");
        if (!(Sgd.WeightDecay >= 0) || double.IsInfinity(Sgd.WeightDecay))
            throw Invalid($"weight decay must be 0 or more (got {Sgd.WeightDecay.ToString(CultureInfo.InvariantCulture)})");
        if (WarmupSteps < 0) throw Invalid($"warm-up steps must be 0 or more (got {WarmupSteps})");
        if (!(Decorrelation >= 0) || double.IsInfinity(Decorrelation))
            throw Invalid($"the decorrelation weight must be 0 or more (got {Decorrelation.ToString(CultureInfo.InvariantCulture)})");
        if (Sgd.Nesterov && Sgd.Momentum == 0) throw Invalid("Nesterov momentum needs a momentum above 0");
        if (Precision == TrainingPrecision.BFloat16 && Decorrelation > 0)
            throw Invalid("bfloat16 precision does not combine with the decorrelation regulariser (its float32 penalty would see the weights change type within the step); train in float32");
    }

    private static CompressException Invalid(string what) =>
        new(DiagnosticCode.InvalidTrainingOption, $"Invalid training option: {what}.", hint: "See 'compress train --help'.");
}

using System.Globalization;
using Compress.Engine.Data;
using Compress.Engine.Diagnostics;
using Compress.Engine.Pruning;
using TorchSharp;
using static TorchSharp.torch;

namespace Compress.Engine.Training;

/// <summary>
/// Trains a classifier with SGD and cross-entropy. With a <see cref="PruningMask"/> the pruned weights are re-zeroed
/// after every optimizer step, so they are exactly 0.0 throughout (masked fine-tuning). Kept weights evolve exactly as
/// with PyTorch's reparametrised pruning: the forward pass sees the same zeros, so their gradients are identical.
/// </summary>
public sealed class Trainer(nn.Module<Tensor, Tensor> model, Device device, IDiagnosticSink? sink = null)
{
    private readonly IDiagnosticSink _sink = sink ?? DiagnosticSinks.None;

    /// <summary>Trains for <see cref="TrainingOptions.Epochs"/> epochs on <paramref name="data"/>.</summary>
    /// <param name="data">The training split.</param>
    /// <param name="normalization">Per-channel normalisation; the same must be used for evaluation.</param>
    /// <param name="options">Validated here (CMP0401).</param>
    /// <param name="mask">Optional pruning mask to keep applied.</param>
    /// <param name="phase">Name shown in progress lines (e.g. "train", "fine-tune").</param>
    /// <param name="cancellationToken">Stops between batches (CMP0006).</param>
    public TrainingResult Train(IImageDataset data, Normalization normalization, TrainingOptions options,
        PruningMask? mask = null, string phase = "train", CancellationToken cancellationToken = default) =>
        Train(data, normalization, options, mask, phase, null, cancellationToken);

    /// <summary>As the other overload, with <paramref name="hook"/> called around each step (dynamic pruning).</summary>
    public TrainingResult Train(IImageDataset data, Normalization normalization, TrainingOptions options,
        PruningMask? mask, string phase, ITrainingHook? hook, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (options.Precision == TrainingPrecision.BFloat16 && model is not Models.ClassifierModel)
            throw new CompressException(DiagnosticCode.InvalidTrainingOption,
                "Invalid training option: bfloat16 precision needs a model the engine describes as a graph (a built-in architecture or an imported ONNX model).",
                hint: "Train in float32.");
        var started = DateTime.UtcNow;
        if (options.Epochs == 0) return new TrainingResult([], 0);

        model.to(device);
        mask?.Apply(model);
        if (options.Decorrelation > 0 && options.DecorrelationVariant == DecorrelationVariant.Literal
            && !model.parameters().Any(p => DecorrelationRegularizer.HasTwoRowKernels(p)))
            _sink.Report(Diagnostic.Warning(DiagnosticCode.LiteralDecorrelationInactive,
                "The literal decorrelation variant adds 0 to the loss here: like the source project's code, it only handles kernels with exactly two rows, and this model's convolutions have none (3x3 and 1x1 kernels).",
                hint: "Use the default decorrelation variant (pearson), which works on any kernel shape."));
        var (channelsLast, layout, unsafeLayer) = ChannelsLastLayout.Decide(model, options.MemoryFormat);
        if (unsafeLayer is not null)
            _sink.Report(Diagnostic.Warning(DiagnosticCode.ChannelsLastUnsafe,
                $"Training NCHW instead of channels-last: {unsafeLayer}.",
                hint: "Nothing to do: the run is correct. Use memoryFormat auto (the default), which never picks channels-last for this model."));
        _sink.Progress($"{phase}: memory format {layout}; " + (options.Precision == TrainingPrecision.BFloat16
            ? "precision bfloat16 (convolutions and linear layers; float32 master weights, BatchNorm and loss)"
            : "precision float32"));
        if (channelsLast) ChannelsLastLayout.ToChannelsLast(model);
        try
        {
            return Run(data, normalization, options, mask, phase, hook, channelsLast, started, cancellationToken);
        }
        finally
        {
            // Whatever happened, the caller gets NCHW weights back: savers, the exporter and the analysis read raw storage.
            if (channelsLast) ChannelsLastLayout.ToContiguous(model);
        }
    }

    private TrainingResult Run(IImageDataset data, Normalization normalization, TrainingOptions options, PruningMask? mask,
        string phase, ITrainingHook? hook, bool channelsLast, DateTime started, CancellationToken cancellationToken)
    {
        var epochs = new List<EpochResult>();
        bool mixed = options.Precision == TrainingPrecision.BFloat16;
        using var optimizer = optim.SGD(model.parameters(), options.Sgd.LearningRate, options.Sgd.Momentum, 0,
            options.Sgd.WeightDecay, options.Sgd.Nesterov);
        using var loader = new BatchLoader(data, new LoaderOptions
        {
            BatchSize = options.BatchSize,
            Shuffle = true,
            Augment = options.Augment,
            Seed = options.Seed,
            Normalization = normalization,
            ChannelsLast = channelsLast,
        }, device);

        int stepsPerEpoch = loader.BatchesPerEpoch;
        long totalSteps = (long)stepsPerEpoch * options.Epochs;
        long globalStep = 0;
        for (int epoch = 1; epoch <= options.Epochs; epoch++)
        {
            model.train();
            var meter = new ProgressMeter(_sink, $"{phase} epoch {epoch}/{options.Epochs}", stepsPerEpoch);
            double lossSum = 0;
            long correct = 0, seen = 0;
            int step = 0;
            foreach (var batch in loader.Epoch(epoch - 1))
            {
                using var owned = batch;
                cancellationToken.ThrowIfCancellationRequested();
                using var scope = NewDisposeScope();
                if (options.CosineSchedule || options.WarmupSteps > 0)
                    SetLearningRate(optimizer, ScheduledRate(options, globalStep, totalSteps));
                optimizer.zero_grad();
                // The regulariser sees the dense weights, before a hook masks them for the forward pass (its graph keeps
                // no reference to the weights' values, so masking them in place afterwards is safe).
                var penalty = options.Decorrelation > 0
                    ? DecorrelationRegularizer.Total(model, variant: options.DecorrelationVariant).mul(options.Decorrelation)
                    : null;
                hook?.BeforeForward(globalStep, totalSteps);
                // Mixed precision: bfloat16 activations; the graph's convolutions and linear layers cast their float32
                // weights per call, so the gradients arrive float32 and the optimizer never sees bfloat16.
                var logits = mixed ? model.forward(batch.Images.to(ScalarType.BFloat16)).to(ScalarType.Float32) : model.forward(batch.Images);
                var loss = nn.functional.cross_entropy(logits, batch.Labels);
                (penalty is null ? loss : loss.add(penalty)).backward();
                hook?.BeforeOptimizerStep();
                optimizer.step();
                mask?.Apply(model);

                double lossValue = loss.item<float>();
                if (!double.IsFinite(lossValue))
                    throw new CompressException(DiagnosticCode.TrainingDiverged,
                        string.Create(CultureInfo.InvariantCulture, $"Training diverged: the loss became {lossValue} in {phase} epoch {epoch}, step {step + 1}."),
                        hint: DivergenceHint(phase));
                lossSum += lossValue * batch.Count;
                correct += logits.argmax(1).eq(batch.Labels).sum().item<long>();
                seen += batch.Count;
                step++;
                globalStep++;
                meter.Step(step, batch.Count, string.Create(CultureInfo.InvariantCulture,
                    $"loss {lossSum / seen:F4} acc {100.0 * correct / seen:F2}%"));
            }
            epochs.Add(new EpochResult(epoch, lossSum / Math.Max(seen, 1), 100.0 * correct / Math.Max(seen, 1),
                meter.ImagesPerSecond, meter.Seconds, CurrentLearningRate(optimizer)));
            // Weights can turn non-finite while the loss still reads finite (an overflow in one layer): caught here, named,
            // rather than later as an export that does not match ONNX Runtime.
            using (var check = NewDisposeScope())
            {
                // Parameters and the floating-point buffers (BatchNorm's running statistics follow the activations).
                var state = model.named_parameters().Select(p => (p.name, (Tensor)p.parameter))
                    .Concat(model.named_buffers().Where(b => b.buffer.is_floating_point()));
                foreach (var (name, parameter) in state)
                    if (!parameter.isfinite().all().item<bool>())
                        throw new CompressException(DiagnosticCode.TrainingDiverged, string.Create(CultureInfo.InvariantCulture,
                            $"Training diverged: '{name}' holds NaN or infinite values after {phase} epoch {epoch}."), hint: DivergenceHint(phase));
            }
            hook?.AfterEpoch(epoch);
        }
        hook?.AfterTraining();
        return new TrainingResult(epochs, (DateTime.UtcNow - started).TotalSeconds);
    }

    /// <summary>
    /// The learning rate at <paramref name="step"/>: linear warm-up over <see cref="TrainingOptions.WarmupSteps"/>, then
    /// constant or cosine-annealed to 0 at <paramref name="totalSteps"/>.
    /// </summary>
    public static double ScheduledRate(TrainingOptions options, long step, long totalSteps)
    {
        ArgumentNullException.ThrowIfNull(options);
        double rate = options.Sgd.LearningRate;
        if (step < options.WarmupSteps) return rate * (step + 1) / options.WarmupSteps;
        return options.CosineSchedule ? CosineRate(rate, step, totalSteps) : rate;
    }

    /// <summary>Cosine annealing from <paramref name="baseRate"/> to 0 over <paramref name="totalSteps"/> steps.</summary>
    public static double CosineRate(double baseRate, long step, long totalSteps) =>
        totalSteps <= 0 ? baseRate : 0.5 * baseRate * (1 + Math.Cos(Math.PI * step / totalSteps));

    private static void SetLearningRate(optim.Optimizer optimizer, double rate)
    {
        foreach (var group in optimizer.ParamGroups) group.LearningRate = rate;
    }

    private static double CurrentLearningRate(optim.Optimizer optimizer) =>
        optimizer.ParamGroups.Select(g => g.LearningRate).FirstOrDefault();

    /// <summary>What to lower: the option of the phase that diverged (the baseline's --lr, or fine-tuning's --finetune-lr).</summary>
    internal static string DivergenceHint(string phase) => phase == "train"
        ? "Lower the learning rate (--lr) or check the data."
        : "Lower the fine-tuning learning rate (--finetune-lr; the build step fine-tunes with the paper's 0.001) or check the data and the weights.";
}

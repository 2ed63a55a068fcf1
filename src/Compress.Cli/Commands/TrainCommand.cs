using System.CommandLine;
using System.Globalization;
using Compress.Engine.Diagnostics;
using Compress.Engine.Pipeline;
using Compress.Engine.Training;

namespace Compress.Cli.Commands;

/// <summary><c>compress train</c>: train a model (from a seed or given weights) and save it as safetensors.</summary>
internal static class TrainCommand
{
    public static Command Create(CommonOptions common, CliContext context)
    {
        var training = new TrainingOptionSet("", TrainingOptions.CifarBaseline);
        var init = new Option<string?>("--weights") { Description = "Optional starting weights; a seeded initialisation otherwise." };
        var output = new Option<string>("--output", "-o") { Description = "Where to write the trained weights (safetensors).", Required = true };
        var dynamicPrune = new Option<string?>("--dynamic-prune")
        {
            Description = "Prune while training, with feedback (Lin et al., ICLR 2020): unstructured (the filter variant is not available yet).",
        };
        dynamicPrune.AcceptOnlyFromAmong("unstructured", "filter");
        var targetSparsity = new Option<double?>("--target-sparsity")
        {
            Description = "With --dynamic-prune: fraction of the conv and linear weights (classifier excluded) masked at the end.",
        };
        var maskInterval = new Option<int>("--mask-interval") { Description = "With --dynamic-prune: steps between mask updates.", DefaultValueFactory = _ => 16 };
        var rampEnd = new Option<double>("--ramp-end") { Description = "With --dynamic-prune: fraction of training at which the target is reached.", DefaultValueFactory = _ => 0.75 };
        var decorrelation = new Option<double>("--decorrelation")
        {
            Description = "Weight alpha of the decorrelation regulariser (Zhu et al.) added to the loss; 0 turns it off.",
            DefaultValueFactory = _ => 0,
        };
        var command = new Command("train", "Train a model and save its weights.");
        common.AddModel(command);
        command.Add(init);
        common.AddData(command);
        training.AddTo(command);
        common.AddRun(command);
        command.Add(output);
        command.Add(dynamicPrune);
        command.Add(targetSparsity);
        command.Add(maskInterval);
        command.Add(rampEnd);
        command.Add(decorrelation);
        command.Add(common.Json);
        command.SetAction(r =>
        {
            string? dynamic = r.GetValue(dynamicPrune);
            if (dynamic == "filter")
                throw new CompressException(DiagnosticCode.InvalidOption, "--dynamic-prune filter is not available yet; use --dynamic-prune unstructured.");
            if (dynamic is null && r.GetValue(targetSparsity) is not null)
                throw new CompressException(DiagnosticCode.InvalidOption, "--target-sparsity needs --dynamic-prune.", hint: "Add --dynamic-prune unstructured.");
            if (dynamic is not null && r.GetValue(targetSparsity) is null)
                throw new CompressException(DiagnosticCode.InvalidOption, "--dynamic-prune needs --target-sparsity (the fraction of weights masked at the end).");
            if (r.GetValue(maskInterval) < 1 || !(r.GetValue(rampEnd) > 0 && r.GetValue(rampEnd) <= 1))
                throw new CompressException(DiagnosticCode.InvalidOption, "--mask-interval must be at least 1 and --ramp-end in (0, 1].");
            var result = TrainJob.Run(new TrainJob.Options
            {
                DynamicPruneTarget = r.GetValue(targetSparsity),
                MaskInterval = r.GetValue(maskInterval),
                RampEnd = r.GetValue(rampEnd),
                Model = common.ModelOptions(r),
                InitialWeights = r.GetValue(init),
                Data = common.DataOptions(r),
                Training = training.Read(r) with { Decorrelation = r.GetValue(decorrelation) },
                Run = common.RunOptions(r),
                OutputPath = r.GetValue(output),
            }, context.Sink, context.Cancellation);
            if (r.GetValue(common.Json)) context.WriteJson(result);
            else
            {
                foreach (var e in result.Training.Epochs)
                    context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"epoch {e.Epoch}: train loss {e.TrainLoss:F4}, train accuracy {e.TrainAccuracy:F2}%, {e.ImagesPerSecond:F0} img/s, {e.Seconds:F1} s"));
                context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"test accuracy {result.Accuracy:F2}% (loss {result.Loss:F4}); {result.Parameters:N0} parameters; weights written to {result.Output}"));
                if (result.MaskUpdates is { } updates)
                    context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"dynamic pruning: sparsity {100 * result.Sparsity:F2}% of all parameters; {updates.Count} mask updates, {updates.Sum(u => u.Revived):N0} weights revived"));
            }
            return 0;
        });
        return command;
    }
}

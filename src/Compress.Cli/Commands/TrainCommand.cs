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
        var dynamic = new DynamicOptionSet(
            "Prune while training, with feedback (Lin et al., ICLR 2020): unstructured (single weights) or filter (whole filters; the saved model is compacted).");
        var command = new Command("train", "Train a model and save its weights.");
        common.AddModel(command);
        command.Add(init);
        common.AddData(command);
        training.AddTo(command);
        common.AddRun(command);
        command.Add(output);
        dynamic.AddTo(command);
        command.Add(common.Json);
        command.SetAction(r =>
        {
            bool pruning = r.GetValue(dynamic.Variant) is not null;
            if (!pruning && dynamic.AnyGiven(r))
                throw new CompressException(DiagnosticCode.InvalidDynamicPruningOption,
                    "--target-sparsity, --mask-interval and --ramp-end need --dynamic-prune.", hint: "Add --dynamic-prune unstructured or filter.");
            if (pruning && r.GetValue(dynamic.Target) is null)
                throw new CompressException(DiagnosticCode.InvalidDynamicPruningOption,
                    "--dynamic-prune needs --target-sparsity (the fraction of weights, or of prunable filters, masked at the end).",
                    hint: "E.g. --dynamic-prune filter --target-sparsity 0.6.");
            var result = TrainJob.Run(new TrainJob.Options
            {
                Dynamic = pruning ? dynamic.Read(r, 0) : null,
                Model = common.ModelOptions(r),
                InitialWeights = r.GetValue(init),
                Data = common.DataOptions(r),
                Training = dynamic.WithDecorrelation(r, training.Read(r)),
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
                if (result.Dynamic is { } d) Summaries.WriteDynamic(context.Out, d);
            }
            return 0;
        });
        return command;
    }
}

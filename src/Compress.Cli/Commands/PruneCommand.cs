using System.CommandLine;
using Compress.Engine.Pipeline;
using Compress.Engine.Training;

namespace Compress.Cli.Commands;

/// <summary><c>compress prune</c>: analyse, prune at a rate (number, knee or safe), fine-tune with the mask, evaluate.</summary>
internal static class PruneCommand
{
    public static Command Create(CommonOptions common, CliContext context)
    {
        var rate = new Option<string>("--rate") { Description = "Prune rate: a number in [0, 1], 'knee' or 'safe'.", DefaultValueFactory = _ => "safe" };
        var fineTune = new TrainingOptionSet("finetune-", TrainingOptions.PaperFineTune);
        var strict = new Option<bool>("--strict") { Description = "Zero-variance tensors are an error instead of a warning." };
        var output = new Option<string[]>("--output", "-o")
        {
            Description = "Where to write the pruned, fine-tuned model: FILE.onnx for a verified, compacted ONNX artifact, any other name for safetensors weights. May be given twice.",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var plot = new Option<string?>("--plot") { Description = "Write a PNG plot of the cosine curve." };
        var embed = new Option<bool>("--embed-preprocessing")
        {
            Description = "Write the input normalisation into the ONNX artifact as Sub and Div nodes, so it takes raw pixel values 0 to 255.",
        };
        var command = new Command("prune", "Prune once by global L1 magnitude, fine-tune with the mask held, and evaluate before and after.");
        common.AddModel(command);
        command.Add(common.Weights);
        common.AddData(command);
        command.Add(rate);
        fineTune.AddTo(command);
        common.AddRun(command);
        command.Add(strict);
        command.Add(output);
        command.Add(plot);
        command.Add(embed);
        command.Add(common.Json);
        command.SetAction(r =>
        {
            var result = PruneJob.Run(new PruneJob.Options
            {
                Model = common.ModelOptions(r),
                Weights = common.WeightsFor(r),
                Data = common.DataOptions(r),
                Rate = r.GetValue(rate)!,
                FineTune = fineTune.Read(r),
                Run = common.RunOptions(r),
                Strict = r.GetValue(strict),
                OutputPath = Outputs(r.GetValue(output), onnx: false),
                OnnxOutputPath = Outputs(r.GetValue(output), onnx: true),
                PlotPath = r.GetValue(plot),
                EmbedPreprocessing = r.GetValue(embed),
            }, context.Sink, context.Cancellation);
            if (r.GetValue(common.Json)) context.WriteJson(result);
            else Summaries.WritePrune(context.Out, result);
            return 0;
        });
        return command;
    }

    private static string? Outputs(string[]? paths, bool onnx) => (paths ?? []).LastOrDefault(p =>
        p.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase) == onnx);
}

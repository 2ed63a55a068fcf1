using System.CommandLine;
using System.Globalization;
using Compress.Engine.Pipeline;

namespace Compress.Cli.Commands;

/// <summary><c>compress evaluate</c>: top-1 accuracy and loss of weights on the test split.</summary>
internal static class EvaluateCommand
{
    public static Command Create(CommonOptions common, CliContext context)
    {
        var batch = new Option<int>("--batch-size") { Description = "Evaluation batch size.", DefaultValueFactory = _ => 256 };
        var command = new Command("evaluate", "Measure top-1 accuracy, loss and sparsity on the test split.");
        common.AddModel(command);
        command.Add(common.Weights);
        common.AddData(command);
        command.Add(batch);
        common.AddRun(command);
        command.Add(common.Json);
        command.SetAction(r =>
        {
            var result = EvaluateJob.Run(new EvaluateJob.Options
            {
                Model = common.ModelOptions(r),
                Weights = common.WeightsFor(r),
                Data = common.DataOptions(r),
                Run = common.RunOptions(r),
                BatchSize = r.GetValue(batch),
            }, context.Sink, context.Cancellation);
            if (r.GetValue(common.Json)) context.WriteJson(result);
            else
                context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"accuracy {result.Accuracy:F2}% (loss {result.Loss:F4}) on {result.Images} images; {result.Parameters:N0} parameters, sparsity {100 * result.Sparsity:F2}%"));
            return 0;
        });
        return command;
    }
}

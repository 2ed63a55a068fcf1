using System.CommandLine;
using System.Globalization;
using Compress.Engine.Pipeline;

namespace Compress.Cli.Commands;

/// <summary><c>compress export</c>: weights to a verified ONNX file.</summary>
internal static class ExportCommand
{
    public static Command Create(CommonOptions common, CliContext context)
    {
        var output = new Option<string>("--output", "-o") { Description = "ONNX file to write (.onnx).", Required = true };
        var noFold = new Option<bool>("--no-fold-bn")
        {
            Description = "Keep BatchNormalization nodes instead of folding them into the convolutions.",
        };
        var command = new Command("export",
            "Export weights to ONNX (opset 17, dynamic batch); the graph is validated and checked against ONNX Runtime before it is written.");
        common.AddModel(command);
        command.Add(common.Weights);
        command.Add(output);
        command.Add(noFold);
        command.Add(common.Json);
        command.SetAction(r =>
        {
            var result = ExportJob.Run(new ExportJob.Options
            {
                Model = common.ModelOptions(r),
                Weights = r.GetValue(common.Weights)!,
                Output = r.GetValue(output)!,
                FoldBatchNorm = !r.GetValue(noFold),
            }, context.Sink, context.Cancellation);
            if (r.GetValue(common.Json)) context.WriteJson(result);
            else
                context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"wrote {result.Output} ({result.FileBytes:N0} bytes, opset {result.Opset}); {result.Parameters:N0} parameters; ONNX Runtime parity: max relative difference {result.MaxRelativeDifference:G3}"));
            return 0;
        });
        return command;
    }
}

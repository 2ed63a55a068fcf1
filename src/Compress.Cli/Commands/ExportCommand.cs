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
        var fold = new Option<bool>("--fold-bn")
        {
            Description = "Fold BatchNorm into the convolutions (the default; --fold-bn false or --no-fold-bn keeps the nodes).",
            DefaultValueFactory = _ => true,
        };
        var compact = new Option<bool>("--compact")
        {
            Description = "Remove output channels whose whole (folded) filter and bias are zero, where that is exact.",
        };
        var opset = new Option<int?>("--opset")
        {
            Description = "ONNX opset, 11 to 21 (default: an imported model's own, else 17).",
        };
        var command = new Command("export",
            "Export weights to ONNX (opset 17 or an imported model's own, dynamic batch); the graph is validated and checked against ONNX Runtime before it is written.");
        common.AddModel(command);
        command.Add(common.Weights);
        command.Add(output);
        command.Add(fold);
        command.Add(noFold);
        command.Add(compact);
        command.Add(opset);
        command.Add(common.Json);
        command.SetAction(r =>
        {
            var result = ExportJob.Run(new ExportJob.Options
            {
                Model = common.ModelOptions(r),
                Weights = common.WeightsFor(r),
                Output = r.GetValue(output)!,
                FoldBatchNorm = r.GetValue(fold) && !r.GetValue(noFold),
                Compact = r.GetValue(compact),
                Opset = r.GetValue(opset),
            }, context.Sink, context.Cancellation);
            if (r.GetValue(common.Json)) context.WriteJson(result);
            else
            {
                context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"wrote {result.Output} ({result.FileBytes:N0} bytes, opset {result.Opset}); {result.Parameters:N0} parameters; ONNX Runtime parity: max relative difference {result.MaxRelativeDifference:G3}"));
                if (result.Compaction is { } c)
                    context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"compaction: {c.RemovedChannels} channels removed; parameters {c.ParametersBefore:N0} -> {c.ParametersAfter:N0}, MACs {c.MacsBefore:N0} -> {c.MacsAfter:N0}, bytes {c.BytesBefore:N0} -> {c.BytesAfter:N0}"));
            }
            return 0;
        });
        return command;
    }
}

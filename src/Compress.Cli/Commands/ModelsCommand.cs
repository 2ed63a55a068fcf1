using System.CommandLine;
using System.Globalization;
using Compress.Engine.Models;
using Compress.Engine.Pipeline;
using Compress.Engine.Runtime;

namespace Compress.Cli.Commands;

/// <summary><c>compress models</c>: the built-in architectures with their parameter counts.</summary>
internal static class ModelsCommand
{
    public static Command Create(CliContext context)
    {
        var command = new Command("models", "List the built-in architectures and their parameter counts at width 1, 10 classes.");
        command.SetAction(_ =>
        {
            TorchRuntime.EnsureLoaded();
            foreach (var name in ModelFactory.Architectures)
            {
                using var model = ModelFactory.Create(new ModelOptions { Architecture = name });
                var input = model.InputShape;
                context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{name,-16} {ModelStatistics.Measure(model).Parameters,12:N0} parameters, input {input.Channels}x{input.Height}x{input.Width}"));
            }
            context.Out.WriteLine("or the path of an .onnx image classifier (--model app.onnx): opsets 11 to 21, float32, one [batch, C, H, W] input");
            return 0;
        });
        return command;
    }
}

using System.CommandLine;
using Compress.Engine.Pipeline;

namespace Compress.Cli.Commands;

/// <summary>
/// <c>compress run</c>: the main job. Train a baseline on the built-in synthetic data (or given data), analyse, prune at
/// the safe rate, fine-tune, evaluate, print a summary and write everything to an output folder.
/// </summary>
internal static class RunCommand
{
    public static Command Create(CommonOptions common, CliContext context)
    {
        var defaults = new MainJob.Options();
        var baseline = new TrainingOptionSet("", defaults.Baseline);
        var fineTune = new TrainingOptionSet("finetune-", defaults.FineTune);
        var weights = new Option<string?>("--weights") { Description = "Use these baseline weights instead of training a baseline." };
        var rate = new Option<string>("--rate") { Description = "Prune rate: a number in [0, 1], 'knee' or 'safe'.", DefaultValueFactory = _ => defaults.Rate };
        var output = new Option<string>("--output-dir", "-o") { Description = "Output folder.", DefaultValueFactory = _ => defaults.OutputDirectory };
        var spec = new Option<string?>("--spec")
        {
            Description = "Build from a JSON spec file (build/compress.schema.json) with an accuracy gate; the spec wins over every other option of this command except --json.",
        };
        // Set by the build step so that a spec item's artifacts land where the build expects them, whatever the spec says.
        var artifactName = new Option<string?>("--artifact-name") { Description = "With --spec: overrides the spec's name." };
        var artifactDir = new Option<string?>("--artifact-dir") { Description = "With --spec: overrides the spec's outputDirectory." };
        var intermediateDir = new Option<string?>("--intermediate-dir")
        {
            Description = "With --spec: overrides the spec's intermediateDirectory (and the cache folder, unless the spec sets cacheDirectory).",
        };
        var command = new Command("run", "The main job: train a baseline, analyse, prune at the safe rate, fine-tune, evaluate, summarise.");
        // The main job's model defaults differ from the other commands': a narrow ResNet-18 that trains in minutes on a CPU.
        var model = new Option<string>("--model", "-m") { Description = common.Model.Description, DefaultValueFactory = _ => defaults.Model.Architecture };
        var width = new Option<double>("--width-multiplier", "-w") { Description = common.WidthMultiplier.Description, DefaultValueFactory = _ => defaults.Model.WidthMultiplier };
        command.Add(model);
        command.Add(width);
        command.Add(common.Classes);
        command.Add(weights);
        common.AddData(command);
        baseline.AddTo(command);
        command.Add(rate);
        fineTune.AddTo(command);
        common.AddRun(command);
        command.Add(output);
        command.Add(common.Json);
        command.Add(spec);
        command.Add(artifactName);
        command.Add(artifactDir);
        command.Add(intermediateDir);
        command.SetAction(r =>
        {
            if (r.GetValue(spec) is string specPath)
            {
                var parsed = Engine.Spec.BuildSpecParser.Load(specPath, context.Sink);
                var report = Engine.Spec.SpecJob.Run(parsed.WithOverrides(r.GetValue(artifactName), r.GetValue(artifactDir),
                    r.GetValue(intermediateDir)), context.Sink, context.Cancellation);
                if (r.GetValue(common.Json)) context.WriteJson(report);
                else
                    context.Out.WriteLine(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                        $"{report.Name}: rate {report.Rate.Value:F4} ({report.Rate.Source}), ONNX accuracy {report.Accuracy.Onnx:F2}% " +
                        $"(unpruned {report.Accuracy.Unpruned:F2}%), {report.FileBytes} bytes, p50 {report.Latency.P50Ms:F3} ms; wrote {report.Onnx}"));
                return 0;
            }
            var result = MainJob.Run(new MainJob.Options
            {
                Model = new Engine.Models.ModelOptions
                {
                    Architecture = r.GetValue(model)!,
                    WidthMultiplier = r.GetValue(width),
                    Classes = r.GetValue(common.Classes),
                },
                Data = common.DataOptions(r),
                Baseline = baseline.Read(r),
                BaselineWeights = r.GetValue(weights),
                Rate = r.GetValue(rate)!,
                FineTune = fineTune.Read(r),
                Run = common.RunOptions(r),
                OutputDirectory = r.GetValue(output)!,
            }, context.Sink, context.Cancellation);
            if (r.GetValue(common.Json)) context.WriteJson(result);
            else
            {
                Summaries.WritePrune(context.Out, result.Prune);
                context.Out.WriteLine($"outputs in {result.OutputDirectory}: baseline.safetensors, pruned.safetensors, pruned.onnx, cosine.png, result.json");
            }
            return 0;
        });
        return command;
    }
}

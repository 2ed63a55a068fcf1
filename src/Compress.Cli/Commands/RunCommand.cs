using System.CommandLine;
using Compress.Engine.Diagnostics;
using Compress.Engine.Pipeline;
using Compress.Engine.Reporting;

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
        var cacheDir = new Option<string?>("--cache-dir")
        {
            Description = "With --spec: where trained baselines are cached (content-addressed), unless the spec sets cacheDirectory.",
        };
        var dependencyFile = new Option<string?>("--dependency-file")
        {
            Description = "With --spec: after a successful run, write every file and folder the run read to this file, one absolute path per line.",
        };
        var projectDir = new Option<string?>("--project-dir")
        {
            Description = "With --spec: the folder the reports' paths are relative to (the build step passes the project's; default: the spec's folder).",
        };
        var pruneRate = new Option<string?>("--prune-rate")
        {
            Description = "With --spec: replaces the spec's pruneRate: a number in [0, 1], knee, safe, or auto (search for the largest rate that passes the gate).",
        };
        var allowOutside = new Option<bool>("--allow-output-outside-project")
        {
            Description = "With --spec: let the spec's output, intermediate and cache folders lie outside its folder and the project (CMP0626 otherwise).",
        };
        var maxTrials = new Option<int?>("--max-trials") { Description = "With --spec: replaces the spec's maxTrials (trials of the auto search, 1 to 50)." };
        var heartbeat = new Option<int?>("--heartbeat")
        {
            Description = "Seconds: when no progress line has been written for that long, write one that repeats the last (\"still: ...\").",
        };
        command.Add(cacheDir);
        command.Add(dependencyFile);
        command.Add(heartbeat);
        command.Add(projectDir);
        command.Add(pruneRate);
        command.Add(maxTrials);
        command.Add(allowOutside);
        command.SetAction(r =>
        {
            if (r.GetValue(spec) is string specPath)
            {
                if (r.GetValue(heartbeat) is int beat && beat <= 0)
                    throw new CompressException(DiagnosticCode.InvalidOption, $"--heartbeat must be a positive number of seconds; got {beat}.",
                        hint: "Leave it out for no heartbeat.");
                using var beating = r.GetValue(heartbeat) is int seconds ? new HeartbeatSink(context.Sink, TimeSpan.FromSeconds(seconds)) : null;
                IDiagnosticSink sink = beating is null ? context.Sink : beating;
                if (r.GetValue(artifactName) is string name && !Engine.Spec.BuildSpec.IsValidName(name))
                    throw new CompressException(DiagnosticCode.InvalidOption,
                        $"--artifact-name must be a file name without folders, control characters or any of <>:\"/\\|?* (got \"{name}\").",
                        hint: "Use letters, digits, '-', '_' and '.'.");
                var parsed = Engine.Spec.BuildSpecParser.Load(specPath, sink).WithOverrides(r.GetValue(artifactName), r.GetValue(artifactDir),
                    r.GetValue(intermediateDir), r.GetValue(cacheDir));
                if (r.GetValue(projectDir) is string project) parsed = parsed with { ProjectDirectory = Path.GetFullPath(project) };
                parsed = Overrides(parsed, r.GetValue(pruneRate), r.GetValue(maxTrials));
                if (r.GetValue(allowOutside)) parsed = parsed with { AllowOutputOutsideProject = true };
                var report = Engine.Spec.SpecJob.Run(parsed, sink, context.Cancellation);
                if (r.GetValue(dependencyFile) is string dependencies)
                {
                    var lines = string.Concat(Engine.Spec.SpecJob.InputFiles(parsed).Select(f => f + "\n"));
                    AtomicFile.WriteAllText(Path.GetFullPath(dependencies), lines);
                }
                if (r.GetValue(common.Json)) context.WriteJson(report);
                else context.Out.WriteLine(Summaries.BuildResultLine(report));
                return 0;
            }
            if (r.GetValue(pruneRate) is not null || r.GetValue(maxTrials) is not null)
                throw new CompressException(DiagnosticCode.InvalidOption, "--prune-rate and --max-trials apply to run --spec only.",
                    hint: "Use --rate for the main job, or give --spec FILE.json.");
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

    /// <summary>The command line's --prune-rate and --max-trials over the spec's pruneRate and maxTrials.</summary>
    private static Engine.Spec.BuildSpec Overrides(Engine.Spec.BuildSpec spec, string? rate, int? trials)
    {
        if (rate is not null)
        {
            string text = rate.Trim().ToLowerInvariant();
            if (text is not ("auto" or "knee" or "safe")) _ = Engine.Pruning.PruneRateParser.Parse(text); // CMP0301 when not a rate
            spec = spec with { PruneRate = text };
        }
        if (trials is int n)
        {
            if (n is < 1 or > 50)
                throw new CompressException(DiagnosticCode.InvalidOption, $"--max-trials must be 1 to 50; got {n}.", hint: "The default is 6.");
            spec = spec with { MaxTrials = n };
        }
        if (spec.PruneRate == "auto" && spec.Method == "layerwise")
            throw new CompressException(DiagnosticCode.InvalidOption, "--prune-rate auto searches pruneRate, channelRatio or targetSparsity; the layerwise method takes its sparsities from the spec.",
                spec.SpecPath, "Use another method, or targetSize with sensitivity auto.");
        return spec;
    }
}

using System.CommandLine;
using System.Globalization;
using Compress.Engine.Diagnostics;
using Compress.Engine.Pipeline;
using Compress.Engine.Pruning;
using Compress.Engine.Training;

namespace Compress.Cli.Commands;

/// <summary><c>compress compare</c>: ShrinkBench's grid of criteria x scopes x fractions on one baseline.</summary>
internal static class CompareCommand
{
    public static Command Create(CommonOptions common, CliContext context)
    {
        var criteria = new Option<string>("--criteria")
        {
            Description = "Comma-separated criteria: magnitude, gradient, random (exactly k), random-bernoulli (unstructured only).",
            DefaultValueFactory = _ => "magnitude,gradient,random",
        };
        var scopes = new Option<string>("--scopes")
        {
            Description = "Comma-separated scopes: global, layer.",
            DefaultValueFactory = _ => string.Join(",", PruningNames.Scopes),
        };
        var fractions = new Option<string>("--fractions")
        {
            Description = "Comma-separated fractions of the conv and linear weights to remove.",
            DefaultValueFactory = _ => "0.5,0.75,0.9,0.95",
        };
        var granularity = new Option<string>("--granularity")
        {
            Description = "unstructured (masks) or channel (whole channels removed; magnitude ranks by L2, scope global ranks all groups together; every cell is also timed in ONNX Runtime).",
            DefaultValueFactory = _ => "unstructured",
        };
        granularity.AcceptOnlyFromAmong("unstructured", "channel");
        var schedule = new Option<string>("--schedule") { Description = "one-shot or iterative.", DefaultValueFactory = _ => "one-shot" };
        schedule.AcceptOnlyFromAmong([.. PruningNames.Schedules]);
        var steps = new Option<int>("--steps") { Description = "With --schedule iterative: steps.", DefaultValueFactory = _ => 5 };
        var shape = new Option<string>("--schedule-shape") { Description = "linear, cubic or geometric.", DefaultValueFactory = _ => "linear" };
        shape.AcceptOnlyFromAmong([.. PruningNames.ScheduleShapes]);
        var epochsBetween = new Option<int>("--epochs-between") { Description = "With --schedule iterative: fine-tuning epochs between steps.", DefaultValueFactory = _ => 1 };
        var includeClassifier = new Option<bool>("--include-classifier") { Description = "Also prune the classifier." };
        var gradientImages = new Option<int>("--gradient-images")
        {
            Description = "Training images for the gradient criterion.",
            DefaultValueFactory = _ => Engine.Pruning.Importance.GradientCollector.DefaultImages,
        };
        var output = new Option<string>("--output-dir", "-o")
        {
            Description = "Folder of compare.json, compare.png and the cell cache (an interrupted grid resumes from it).",
            DefaultValueFactory = _ => "compare",
        };
        var latencyRuns = new Option<int>("--latency-runs")
        {
            Description = "With --granularity channel: timed ONNX Runtime runs per model and cell.",
            DefaultValueFactory = _ => 50,
        };
        var scratch = new Option<bool>("--scratch")
        {
            Description = "Also train every cell's mask or pruned architecture from a fresh initialisation (the baseline recipe) and compare accuracy and weight histograms with the fine-tuned model (compare-scratch.png).",
        };
        var scratchEpochs = new Option<int>("--scratch-epochs")
        {
            Description = "With --scratch: training epochs from scratch.",
            DefaultValueFactory = _ => 5,
        };
        var fineTune = new TrainingOptionSet("finetune-", TrainingOptions.PaperFineTune);
        var command = new Command("compare",
            "Prune the same baseline by every criterion, scope and fraction, fine-tune and evaluate each, and plot accuracy against compression (ShrinkBench).");
        common.AddModel(command);
        command.Add(common.Weights);
        common.AddData(command);
        command.Add(criteria);
        command.Add(scopes);
        command.Add(fractions);
        command.Add(granularity);
        command.Add(latencyRuns);
        command.Add(scratch);
        command.Add(scratchEpochs);
        command.Add(schedule);
        command.Add(steps);
        command.Add(shape);
        command.Add(epochsBetween);
        command.Add(includeClassifier);
        command.Add(gradientImages);
        fineTune.AddTo(command);
        command.Add(output);
        common.AddRun(command);
        command.Add(common.Json);
        command.SetAction(r =>
        {
            if (r.GetValue(gradientImages) < 1)
                throw new CompressException(DiagnosticCode.InvalidOption, "--gradient-images must be at least 1.");
            var result = CompareJob.Run(new CompareJob.Options
            {
                Model = common.ModelOptions(r),
                Weights = common.WeightsFor(r),
                Data = common.DataOptions(r),
                Run = common.RunOptions(r),
                Criteria = Split(r.GetValue(criteria)!, "--criteria", PruningNames.Criteria),
                Scopes = [.. Split(r.GetValue(scopes)!, "--scopes", PruningNames.Scopes).Select(s => PruningNames.Scope(s)!.Value)],
                Fractions = Fractions(r.GetValue(fractions)!),
                Schedule = r.GetValue(schedule) == "iterative"
                    ? new PruneSchedule
                    {
                        Steps = r.GetValue(steps),
                        Shape = PruningNames.ScheduleShape(r.GetValue(shape)) ?? PruneScheduleShape.Linear,
                        EpochsBetween = r.GetValue(epochsBetween),
                    }
                    : PruneSchedule.OneShot,
                FineTune = fineTune.Read(r),
                IncludeClassifier = r.GetValue(includeClassifier),
                GradientImages = r.GetValue(gradientImages),
                OutputDirectory = r.GetValue(output)!,
                Granularity = r.GetValue(granularity)!,
                LatencyRuns = r.GetValue(latencyRuns),
                ScratchEpochs = r.GetValue(scratch) ? r.GetValue(scratchEpochs) : null,
            }, context.Sink, context.Cancellation);
            if (r.GetValue(common.Json)) context.WriteJson(result);
            else Write(context.Out, result);
            return 0;
        });
        return command;
    }

    private static List<string> Split(string text, string option, IReadOnlyList<string> known)
    {
        var values = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
        foreach (string value in values)
            if (!known.Contains(value, StringComparer.OrdinalIgnoreCase))
                throw new CompressException(DiagnosticCode.InvalidOption, $"{option}: '{value}' is not one of {string.Join(", ", known)}.");
        return [.. values.Select(v => v.ToLowerInvariant())];
    }

    private static List<double> Fractions(string text)
    {
        var result = new List<double>();
        foreach (string part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!double.TryParse(part, NumberStyles.Float, CultureInfo.InvariantCulture, out double f) || !(f >= 0 && f <= 1))
                throw new CompressException(DiagnosticCode.InvalidOption, $"--fractions: '{part}' is not a number in [0, 1].",
                    hint: "Give e.g. --fractions 0.5,0.75,0.9,0.95.");
            result.Add(f);
        }
        return result;
    }

    private static void Write(TextWriter o, CompareResult result)
    {
        var c = CultureInfo.InvariantCulture;
        o.WriteLine(string.Create(c, $"baseline accuracy {result.BaselineAccuracy:F2}%, {result.Parameters:N0} parameters"));
        o.WriteLine("criterion  scope   fraction  compression  pruned %  fine-tuned %" + (result.Granularity == "channel" ? "    MACs  speedup" : ""));
        foreach (var cell in result.Cells)
        {
            string structure = cell.MacsRatio is double m && cell.Speedup is double s ? string.Create(c, $"  {m,6:F2}x  {s,6:F2}x") : "";
            o.WriteLine(string.Create(c, $"{cell.Criterion,-10} {cell.Scope,-7} {cell.Fraction,8:0.###}  {cell.CompressionRatio,10:F2}x  {cell.AccuracyPruned,8:F2}  {cell.AccuracyFineTuned,12:F2}{structure}{(cell.Cached ? "  (cached)" : "")}"));
        }
        o.WriteLine($"result {result.Json}");
        o.WriteLine($"plot   {result.Plot}");
        if (result.SpeedupPlot is not null) o.WriteLine($"plot   {result.SpeedupPlot}");
        if (result.Cells.Any(c => c.Scratch is not null))
        {
            foreach (var cell in result.Cells.Where(c => c.Scratch is not null))
                o.WriteLine(string.Create(c, $"scratch {cell.Criterion} {cell.Scope} {cell.Fraction:0.###}: {cell.Scratch!.Accuracy:F2}% after {cell.Scratch.Epochs} epochs from scratch, {cell.AccuracyFineTuned:F2}% fine-tuned"));
            o.WriteLine($"plot   {Path.Combine(Path.GetDirectoryName(result.Plot)!, "compare-scratch.png")}");
        }
    }
}

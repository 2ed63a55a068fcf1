using System.CommandLine;
using System.Globalization;
using Compress.Engine.Benchmark;
using Compress.Engine.Diagnostics;
using Compress.Engine.Pipeline;
using Compress.Engine.Pruning;
using Compress.Engine.Pruning.Channels;
using Compress.Engine.Training;

namespace Compress.Cli.Commands;

/// <summary><c>compress prune</c>: analyse, prune (the paper's global magnitude pruning at a rate, layerwise, or whole
/// channels), fine-tune, evaluate; for channels, also compare MACs, parameters and ONNX Runtime latency with the
/// unpruned model.</summary>
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
        var method = new Option<string>("--method")
        {
            Description = "global (the paper's L1 magnitude pruning of all parameters at --rate), unstructured (conv and linear weights by --criterion and --scope, optionally iterative), layerwise (a sensitivity scan proposes one sparsity per layer) channel (whole channels removed: a smaller, faster model) or dynamic (pruned while fine-tuning, with feedback: --dynamic-prune, --target-sparsity).",
            DefaultValueFactory = _ => "global",
        };
        method.AcceptOnlyFromAmong([.. PruningNames.Methods]);
        var dynamic = new DynamicOptionSet(
            "With --method dynamic: unstructured (single weights, default) or filter (whole filters; the result is compacted) pruned while fine-tuning, with feedback (Lin et al., ICLR 2020).");
        var criterion = new Option<string?>("--criterion")
        {
            Description = "With --method unstructured: magnitude (|w|, default), gradient (|w x dL/dw| from the first training images) or random (seeded).",
        };
        criterion.AcceptOnlyFromAmong([.. PruningNames.Criteria]);
        var scope = new Option<string?>("--scope")
        {
            Description = "With --method unstructured: global (one ranking over all weights in scope, default) or layer (each weight tensor loses the same fraction).",
        };
        scope.AcceptOnlyFromAmong([.. PruningNames.Scopes]);
        var includeClassifier = new Option<bool>("--include-classifier")
        {
            Description = "With --method unstructured or dynamic: also prune the classifier (the layer that writes the logits).",
        };
        var gradientImages = new Option<int?>("--gradient-images")
        {
            Description = "With --criterion gradient: training images (first in file order) whose loss gradient is used (default 128).",
        };
        var schedule = new Option<string?>("--schedule")
        {
            Description = "With --method unstructured or channel: one-shot (default) or iterative (--steps steps to the target, fine-tuning between them).",
        };
        schedule.AcceptOnlyFromAmong([.. PruningNames.Schedules]);
        var steps = new Option<int?>("--steps") { Description = "With --schedule iterative: steps (default 5)." };
        var scheduleShape = new Option<string?>("--schedule-shape")
        {
            Description = "With --schedule iterative: how the cumulative target grows: linear (s i/N, default), cubic (s (1 - (1 - i/N)^3)) or geometric (1 - (1 - s)^(i/N)).",
        };
        scheduleShape.AcceptOnlyFromAmong([.. PruningNames.ScheduleShapes]);
        var epochsBetween = new Option<int?>("--epochs-between")
        {
            Description = "With --schedule iterative: fine-tuning epochs between steps (default 1; the final fine-tune follows the last step).",
        };
        var channelRatio = new Option<double?>("--channel-ratio")
        {
            Description = "With --method channel: fraction of every prunable channel group to remove (default 0.3).",
        };
        var roundTo = new Option<int?>("--round-to")
        {
            Description = "With --method channel or dynamic (filter): round each group's kept channels to a multiple of N (8 or 16 suit CPU kernels; default 1).",
        };
        var ranking = new Option<string?>("--ranking")
        {
            Description = "With --method channel: l2 (default), l1, naive (keep the first channels), gradient (first-order Taylor) or random.",
        };
        ranking.AcceptOnlyFromAmong([.. ChannelRankingNames.All]);
        var globalRanking = new Option<bool>("--global-ranking")
        {
            Description = "With --method channel: rank the channels of all groups together instead of group by group.",
        };
        var ignore = new Option<string[]>("--ignore")
        {
            Description = "With --method channel or dynamic (filter): layers whose channel groups keep every channel (module names, e.g. features.0.0).",
            AllowMultipleArgumentsPerToken = true,
        };
        var channelPlan = new Option<string?>("--channel-plan")
        {
            Description = "With --method channel: apply this plan (a file from --save-plan, or a build report) instead of making one.",
        };
        var savePlan = new Option<string?>("--save-plan")
        {
            Description = "With --method channel or unstructured: write the plan as JSON (channel: groups, members, channels kept, exclusions with reasons; unstructured: the mask).",
        };
        var maskPlan = new Option<string?>("--mask-plan")
        {
            Description = "With --method unstructured: apply the mask in this plan (from --save-plan) instead of deciding one.",
        };
        var latencyRuns = new Option<int>("--latency-runs")
        {
            Description = "With --method channel or dynamic: timed ONNX Runtime runs per model when comparing the unpruned and the pruned model (0 skips the comparison).",
            DefaultValueFactory = _ => 100,
        };
        var latencyThreads = new Option<int>("--latency-threads")
        {
            Description = "With --method channel or dynamic: ONNX Runtime intra-op threads of the comparison (0: ONNX Runtime's choice, one per core).",
            DefaultValueFactory = _ => OrtSessionSettings.DefaultThreads,
        };
        var command = new Command("prune",
            "Prune once (global L1 magnitude by default, layerwise, or whole channels), fine-tune, and evaluate before and after.");
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
        command.Add(method);
        command.Add(criterion);
        command.Add(scope);
        command.Add(includeClassifier);
        command.Add(gradientImages);
        command.Add(schedule);
        command.Add(steps);
        command.Add(scheduleShape);
        command.Add(epochsBetween);
        command.Add(channelRatio);
        command.Add(roundTo);
        command.Add(ranking);
        command.Add(globalRanking);
        command.Add(ignore);
        command.Add(channelPlan);
        command.Add(savePlan);
        command.Add(maskPlan);
        command.Add(latencyRuns);
        command.Add(latencyThreads);
        dynamic.AddTo(command);
        command.Add(common.Json);
        command.SetAction(r =>
        {
            var chosen = PruningNames.Method(r.GetValue(method)) ?? PruneMethod.Global;
            bool unstructuredOptions = r.GetValue(scope) is not null || (r.GetValue(includeClassifier) && chosen != PruneMethod.Dynamic) || r.GetValue(maskPlan) is not null;
            bool sharedOptions = r.GetValue(criterion) is not null || r.GetValue(gradientImages) is not null || r.GetValue(schedule) is not null ||
                r.GetValue(steps) is not null || r.GetValue(scheduleShape) is not null || r.GetValue(epochsBetween) is not null;
            if ((chosen != PruneMethod.Unstructured && unstructuredOptions) ||
                (chosen is not (PruneMethod.Unstructured or PruneMethod.Channel) && sharedOptions))
                throw new CompressException(DiagnosticCode.InvalidOption,
                    "--scope, --include-classifier and --mask-plan apply to --method unstructured only; --criterion, --gradient-images, --schedule, --steps, --schedule-shape and --epochs-between to --method unstructured or channel.",
                    hint: "Add --method unstructured (or channel), or drop those options.");
            if (chosen == PruneMethod.Channel && r.GetValue(criterion) == "random-bernoulli")
                throw new CompressException(DiagnosticCode.InvalidOption, "--criterion random-bernoulli prunes single weights; channels take magnitude, gradient or random.");
            if (chosen == PruneMethod.Channel && r.GetValue(criterion) is not null && r.GetValue(ranking) is not null)
                throw new CompressException(DiagnosticCode.InvalidOption, "--criterion and --ranking both choose the channel importance; give one.",
                    hint: "--criterion magnitude is --ranking l2; gradient and random are the same in both.");
            bool iterative = r.GetValue(schedule) == "iterative";
            if (!iterative && (r.GetValue(steps) is not null || r.GetValue(scheduleShape) is not null || r.GetValue(epochsBetween) is not null))
                throw new CompressException(DiagnosticCode.InvalidOption, "--steps, --schedule-shape and --epochs-between need --schedule iterative.",
                    hint: "Add --schedule iterative.");
            if (r.GetValue(gradientImages) is < 1)
                throw new CompressException(DiagnosticCode.InvalidOption, "--gradient-images must be at least 1.");
            bool channelOptions = r.GetValue(channelRatio) is not null || (r.GetValue(roundTo) is not null && chosen != PruneMethod.Dynamic) || r.GetValue(ranking) is not null ||
                r.GetValue(globalRanking) || ((r.GetValue(ignore) ?? []).Length > 0 && chosen != PruneMethod.Dynamic) || r.GetValue(channelPlan) is not null || (r.GetValue(savePlan) is not null && chosen != PruneMethod.Unstructured);
            if (chosen != PruneMethod.Channel && channelOptions)
                throw new CompressException(DiagnosticCode.InvalidOption,
                    "--channel-ratio, --round-to, --ranking, --global-ranking, --ignore, --channel-plan and --save-plan apply to --method channel only.",
                    hint: "Add --method channel, or drop the channel options.");
            if (r.GetValue(latencyRuns) < 0 || r.GetValue(latencyThreads) < 0)
                throw new CompressException(DiagnosticCode.InvalidOption, string.Create(CultureInfo.InvariantCulture,
                    $"--latency-runs and --latency-threads must be 0 or more (got {r.GetValue(latencyRuns)} and {r.GetValue(latencyThreads)})."));
            if (chosen != PruneMethod.Dynamic && dynamic.AnyGiven(r))
                throw new CompressException(DiagnosticCode.InvalidDynamicPruningOption,
                    "--dynamic-prune, --target-sparsity, --mask-interval and --ramp-end apply to --method dynamic only.",
                    hint: "Add --method dynamic, or drop those options.");
            if (chosen == PruneMethod.Dynamic && r.GetValue(dynamic.Variant) == "filter" && r.GetValue(dynamic.Target) is null)
                throw new CompressException(DiagnosticCode.InvalidDynamicPruningOption,
                    "--dynamic-prune filter needs --target-sparsity (the fraction of prunable filters masked).", hint: "E.g. --target-sparsity 0.6.");
            var dynamicOptions = chosen == PruneMethod.Dynamic
                ? dynamic.Read(r, 0) with
                {
                    IncludeClassifier = r.GetValue(includeClassifier),
                    IgnoredLayers = r.GetValue(ignore) ?? [],
                    RoundTo = r.GetValue(roundTo) ?? 1,
                }
                : new Engine.Pruning.Dynamic.DynamicPruningOptions();
            var plan = r.GetValue(channelPlan) is { } planPath ? ChannelPlanFile.Read(planPath) : null;
            var result = PruneJob.Run(new PruneJob.Options
            {
                Method = chosen,
                Dynamic = dynamicOptions,
                DynamicTarget = chosen == PruneMethod.Dynamic ? r.GetValue(dynamic.Target) : null,
                Unstructured = new Engine.Pruning.Unstructured.UnstructuredPruningOptions
                {
                    Criterion = PruningNames.Criterion(r.GetValue(criterion) ?? "magnitude"),
                    Scope = PruningNames.Scope(r.GetValue(scope)) ?? PruneScope.Global,
                    IncludeClassifier = r.GetValue(includeClassifier),
                    GradientImages = r.GetValue(gradientImages) ?? Engine.Pruning.Importance.GradientCollector.DefaultImages,
                },
                Schedule = iterative
                    ? new PruneSchedule
                    {
                        Steps = r.GetValue(steps) ?? 5,
                        Shape = PruningNames.ScheduleShape(r.GetValue(scheduleShape)) ?? PruneScheduleShape.Linear,
                        EpochsBetween = r.GetValue(epochsBetween) ?? 1,
                    }
                    : PruneSchedule.OneShot,
                Channel = new ChannelPruningOptions
                {
                    Ratio = r.GetValue(channelRatio) ?? 0.3,
                    RoundTo = r.GetValue(roundTo) ?? 1,
                    Ranking = ChannelRankingNames.Parse(r.GetValue(ranking) ?? (r.GetValue(criterion) == "magnitude" ? "l2" : r.GetValue(criterion))) ?? ChannelRanking.L2,
                    GlobalRanking = r.GetValue(globalRanking),
                    IgnoredLayers = r.GetValue(ignore) ?? [],
                },
                ChannelPlan = plan,
                ChannelPlanOutputPath = chosen == PruneMethod.Channel ? r.GetValue(savePlan) : null,
                MaskPlanOutputPath = chosen == PruneMethod.Unstructured ? r.GetValue(savePlan) : null,
                MaskPlanPath = r.GetValue(maskPlan),
                CompareWithUnpruned = chosen is PruneMethod.Channel or PruneMethod.Dynamic && r.GetValue(latencyRuns) > 0,
                ComparisonRuns = Math.Max(1, r.GetValue(latencyRuns)),
                ComparisonSession = new OrtSessionSettings { Threads = r.GetValue(latencyThreads) },
                Model = common.ModelOptions(r),
                Weights = common.WeightsFor(r),
                Data = common.DataOptions(r),
                Rate = r.GetValue(rate)!,
                FineTune = dynamic.WithDecorrelation(r, fineTune.Read(r)),
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

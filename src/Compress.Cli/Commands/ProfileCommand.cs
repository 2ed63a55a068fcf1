using System.CommandLine;
using System.Globalization;
using System.Text;
using Compress.Engine.Benchmark;
using Compress.Engine.Models;
using Compress.Engine.Pipeline;
using Compress.Engine.Pruning.Channels;
using Compress.Engine.Runtime;

namespace Compress.Cli.Commands;

/// <summary>
/// <c>compress profile</c>: MACs, parameters and bytes of a model per layer (read from the weights' shapes), and
/// optionally its TorchSharp latency. The model is loaded first, then <see cref="Describe"/> turns it into the output:
/// an option that transforms the model (a channel prune, say) goes between the two.
/// </summary>
internal static class ProfileCommand
{
    private static readonly string[] Header = ["layer", "kind", "output", "MACs", "parameters", "bytes"];

    public static Command Create(CommonOptions common, CliContext context)
    {
        var weights = new Option<string?>("--weights")
        {
            Description = "Weights file (safetensors or a PyTorch state_dict); its tensor shapes are what is counted. " +
                "Default: the architecture's own (randomly initialised) weights.",
        };
        var latency = new Option<bool>("--latency")
        {
            Description = "Also time the forward pass in TorchSharp at batch 1 (p50/p90/p99 in ms).",
        };
        var defaults = new TorchLatencyOptions();
        var warmup = new Option<int>("--warmup")
        {
            Description = "Untimed forwards before timing (with --latency).",
            DefaultValueFactory = _ => defaults.Warmup,
        };
        var runs = new Option<int>("--runs")
        {
            Description = "Timed forwards (with --latency).",
            DefaultValueFactory = _ => defaults.Runs,
        };
        var channelRatio = new Option<double?>("--channel-ratio")
        {
            Description = "Prune this fraction of every prunable channel group first (physical removal), then profile the " +
                "smaller model. Keeps round((1 - R) x channels) per group.",
        };
        var naive = new Option<bool>("--naive")
        {
            Description = "With --channel-ratio: keep the first channels instead of the largest-L2 ones (the lab's first experiment).",
        };
        var ranking = new Option<string>("--ranking")
        {
            Description = "With --channel-ratio: l2 (default), l1 or naive.",
            DefaultValueFactory = _ => "l2",
        };
        ranking.AcceptOnlyFromAmong([.. ChannelRankingNames.All]);
        var ignore = new Option<string[]>("--ignore")
        {
            Description = "With --channel-ratio: layers whose channel groups keep every channel (e.g. backbone.conv7).",
            AllowMultipleArgumentsPerToken = true,
        };
        var roundTo = new Option<int>("--round-to")
        {
            Description = "With --channel-ratio: round each group's kept channels to a multiple of N.",
            DefaultValueFactory = _ => 1,
        };
        var command = new Command("profile",
            "Count multiply-accumulates, parameters and bytes per layer (torchprofile's rules); optionally time the model in TorchSharp.");
        common.AddModel(command);
        command.Add(weights);
        command.Add(latency);
        command.Add(warmup);
        command.Add(runs);
        command.Add(channelRatio);
        command.Add(naive);
        command.Add(ranking);
        command.Add(ignore);
        command.Add(roundTo);
        command.Add(common.Device);
        command.Add(common.Threads);
        command.Add(common.Json);
        command.SetAction(r =>
        {
            var device = TorchRuntime.Resolve(TorchRuntime.ParseDevice(r.GetValue(common.Device)!), context.Sink);
            TorchRuntime.SetThreads(r.GetValue(common.Threads));
            using var loaded = ModelLoader.Create(common.ModelOptions(r), r.GetValue(weights), device, seed: 0);
            using var pruned = r.GetValue(channelRatio) is double ratio
                ? ChannelPruner.Prune(loaded, new ChannelPruningOptions
                {
                    Ratio = ratio,
                    Ranking = r.GetValue(naive) ? ChannelRanking.Naive
                        : ChannelRankingNames.Parse(r.GetValue(ranking)) ?? ChannelRanking.L2,
                    IgnoredLayers = r.GetValue(ignore) ?? [],
                    RoundTo = r.GetValue(roundTo),
                })
                : null;
            var model = pruned?.Model ?? loaded;
            var timing = r.GetValue(latency)
                ? new TorchLatencyOptions { Warmup = r.GetValue(warmup), Runs = r.GetValue(runs) }
                : null;
            var report = Describe(model, timing, context.Cancellation);
            if (r.GetValue(common.Json)) context.WriteJson(report);
            else context.Out.Write(Table(report));
            return 0;
        });
        return command;
    }

    /// <summary>The command's output for <paramref name="model"/>: the profile, and the latency when asked for.</summary>
    internal static ProfileReport Describe(ClassifierModel model, TorchLatencyOptions? latency, CancellationToken ct) =>
        ProfileReport.Create(model, latency, ct);

    /// <summary>The human-readable form: one row per layer, then the totals.</summary>
    internal static string Table(ProfileReport report)
    {
        var rows = new List<string[]> { Header };
        foreach (var layer in report.Layers)
            rows.Add([layer.Name, layer.Kind, string.Join("x", layer.OutputShape.Select(N)), N(layer.Macs),
                N(layer.Parameters), N(layer.Bytes)]);
        rows.Add(["total", "", "", N(report.Macs), N(report.Parameters), N(report.Bytes)]);
        int[] widths = [.. Enumerable.Range(0, rows[0].Length).Select(i => rows.Max(row => row[i].Length))];
        var sb = new StringBuilder();
        foreach (var row in rows)
            sb.AppendLine(string.Join("  ", row.Select((cell, i) => i < 3 ? cell.PadRight(widths[i]) : cell.PadLeft(widths[i]))).TrimEnd());
        sb.AppendLine();
        sb.AppendLine(string.Create(CultureInfo.InvariantCulture,
            $"model {report.Model} ({(Engine.Models.Onnx.OnnxImporter.IsOnnxPath(report.Model) ? "imported" : $"width {report.WidthMultiplier:R}")}, {report.Classes} classes), input {string.Join("x", report.InputShape.Select(N))}, batch 1"));
        sb.AppendLine("macs " + N(report.Macs));
        sb.AppendLine("parameters " + N(report.Parameters));
        sb.AppendLine(CultureInfo.InvariantCulture, $"bytes {N(report.Bytes)} (float32 parameters; {N(report.StateBytes)} with BatchNorm running statistics)");
        if (report.LatencyMs is { } l)
            sb.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"latency p50 {l.P50:F3} ms, p90 {l.P90:F3} ms, p99 {l.P99:F3} ms (TorchSharp, {report.Device}, batch 1)"));
        return sb.ToString();
    }

    private static string N(long value) => value.ToString("N0", CultureInfo.InvariantCulture);
}

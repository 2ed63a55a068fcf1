using System.CommandLine;
using System.Globalization;
using System.Text;
using Compress.Engine.Benchmark;
using Compress.Engine.Diagnostics;

namespace Compress.Cli.Commands;

/// <summary><c>compress bench</c>: latency, throughput, accuracy and size of an ONNX classifier in ONNX Runtime.</summary>
internal static class BenchCommand
{
    public static Command Create(CommonOptions common, CliContext context)
    {
        var onnx = new Option<string>("--onnx") { Description = "The ONNX classifier to benchmark.", Required = true };
        var baseline = new Option<string?>("--baseline")
        {
            Description = "A second ONNX model measured in the same run (alternating) for speedup and size ratios.",
        };
        var device = new Option<string>("--device")
        {
            Description = "cpu (default) or cuda (falls back to the CPU with warning CMP0505 when CUDA cannot be used).",
            DefaultValueFactory = _ => "cpu",
        };
        var batch = new Option<int[]>("--batch")
        {
            Description = "Batch size whose throughput is measured; repeat for several (default 1 and 32). Latency is always at batch 1.",
            AllowMultipleArgumentsPerToken = true,
        };
        var threads = new Option<int>("--threads")
        {
            Description = "ONNX Runtime intra-op threads (0 = one per physical core, the default).",
            DefaultValueFactory = _ => OrtSessionSettings.DefaultThreads,
        };
        var optimization = new Option<string>("--optimization")
        {
            Description = "Graph optimisation level: none, basic, extended or all.",
            DefaultValueFactory = _ => new OrtSessionSettings().Optimization.ToString().ToLowerInvariant(),
        };
        var defaults = new OrtBenchmarkOptions { Model = "" };
        var warmup = new Option<int>("--warmup")
        {
            Description = "Untimed runs per model and batch size.",
            DefaultValueFactory = _ => defaults.Warmup,
        };
        var runs = new Option<int>("--runs")
        {
            Description = "Timed runs at batch 1 (batch b gets min(runs, max(3, ceil(4 runs / b)))).",
            DefaultValueFactory = _ => defaults.Runs,
        };
        var command = new Command("bench", "Benchmark an ONNX classifier in ONNX Runtime: latency, throughput, accuracy, size.")
        {
            onnx, baseline,
        };
        common.AddData(command);
        command.Add(device);
        command.Add(batch);
        command.Add(threads);
        command.Add(optimization);
        command.Add(warmup);
        command.Add(runs);
        command.Add(common.Json);
        command.SetAction(r =>
        {
            var given = r.GetValue(batch);
            var result = OrtBenchmark.Run(new OrtBenchmarkOptions
            {
                Model = r.GetValue(onnx)!,
                Baseline = r.GetValue(baseline),
                Data = common.DataOptions(r),
                Session = new OrtSessionSettings
                {
                    Device = ParseDevice(r.GetValue(device)!),
                    Threads = r.GetValue(threads),
                    Optimization = ParseOptimization(r.GetValue(optimization)!),
                },
                BatchSizes = given is { Length: > 0 } ? given : defaults.BatchSizes,
                Warmup = r.GetValue(warmup),
                Runs = r.GetValue(runs),
            }, context.Sink, context.Cancellation);
            if (r.GetValue(common.Json)) context.WriteJson(result);
            else context.Out.Write(Table(result));
            return 0;
        });
        return command;
    }

    internal static OrtDeviceKind ParseDevice(string value) => value.Trim().ToLowerInvariant() switch
    {
        "cpu" => OrtDeviceKind.Cpu,
        "cuda" => OrtDeviceKind.Cuda,
        _ => throw new CompressException(DiagnosticCode.InvalidOption, $"Unknown device '{value}'.", hint: "Use --device cpu or --device cuda."),
    };

    internal static OrtOptimization ParseOptimization(string value) => value.Trim().ToLowerInvariant() switch
    {
        "none" => OrtOptimization.None,
        "basic" => OrtOptimization.Basic,
        "extended" => OrtOptimization.Extended,
        "all" => OrtOptimization.All,
        _ => throw new CompressException(DiagnosticCode.InvalidOption, $"Unknown optimisation level '{value}'.",
            hint: "Use --optimization none, basic, extended or all."),
    };

    /// <summary>The human-readable table: one column per model, plus the ratio with a baseline.</summary>
    private static string Table(OrtBenchmarkResult result)
    {
        var candidate = result.Candidate();
        var columns = result.Baseline is { } b ? new[] { candidate, b } : [candidate];
        var ratio = result.Ratio;
        var rows = new List<string[]> { Row("", columns.Select(c => Path.GetFileName(c.Model)), ratio is null ? null : "ratio") };
        rows.Add(Row("latency p50 (ms)", columns.Select(c => F(c.LatencyMs.P50, "F3")), ratio is null ? null : F(ratio.Speedup, "F2") + "x faster"));
        rows.Add(Row("latency p90 (ms)", columns.Select(c => F(c.LatencyMs.P90, "F3")), ratio is null ? null : ""));
        rows.Add(Row("latency p99 (ms)", columns.Select(c => F(c.LatencyMs.P99, "F3")), ratio is null ? null : ""));
        foreach (int size in candidate.Throughput.Keys.Order())
            rows.Add(Row($"images/s @ batch {size.ToString(CultureInfo.InvariantCulture)}",
                columns.Select(c => c.Throughput.TryGetValue(size, out double t) ? F(t, "F1") : "-"),
                ratio is null ? null : ratio.Throughput.TryGetValue(size, out double q) ? F(q, "F2") + "x" : "-"));
        rows.Add(Row("accuracy (%)", columns.Select(c => c.Accuracy is double a ? F(a, "F2") : "-"),
            ratio is null ? null : ratio.AccuracyDifference is double d ? d.ToString("+0.00;-0.00;0.00", CultureInfo.InvariantCulture) + " pts" : "-"));
        rows.Add(Row("file (bytes)", columns.Select(c => c.FileBytes.ToString("N0", CultureInfo.InvariantCulture)),
            ratio is null ? null : F(ratio.Size, "F2") + "x smaller"));
        rows.Add(Row("parameters", columns.Select(c => c.Parameters.ToString("N0", CultureInfo.InvariantCulture)),
            ratio is null ? null : F(ratio.Parameters, "F2") + "x fewer"));
        rows.Add(Row("MACs / image", columns.Select(c => c.Macs is long m ? m.ToString("N0", CultureInfo.InvariantCulture) : "unknown"),
            ratio is null ? null : ""));
        int[] widths = [.. Enumerable.Range(0, rows[0].Length).Select(i => rows.Max(row => row[i].Length))];
        var sb = new StringBuilder();
        foreach (var row in rows)
            sb.AppendLine(string.Join("  ", row.Select((cell, i) => i == 0 ? cell.PadRight(widths[i]) : cell.PadLeft(widths[i]))).TrimEnd());
        sb.AppendLine(string.Create(CultureInfo.InvariantCulture,
            $"device {result.Device}, threads {result.Threads}, optimization {result.Optimization}"));
        return sb.ToString();
    }

    private static string[] Row(string label, IEnumerable<string> cells, string? ratio) =>
        ratio is null ? [label, .. cells] : [label, .. cells, ratio];

    private static string F(double value, string format) => value.ToString(format, CultureInfo.InvariantCulture);
}

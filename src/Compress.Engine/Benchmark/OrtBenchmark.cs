using System.Diagnostics;
using System.Globalization;
using Compress.Engine.Data;
using Compress.Engine.Diagnostics;

namespace Compress.Engine.Benchmark;

/// <summary>
/// What <c>compress bench</c> does: latency, throughput, accuracy and size of an ONNX classifier in ONNX Runtime,
/// optionally against a baseline. With a baseline the two models are timed alternately, one run each in turn, so that
/// both see the same machine load (other processes, thermal state) and the ratios are fair.
/// </summary>
public static class OrtBenchmark
{
    /// <summary>Measures <see cref="OrtBenchmarkOptions.Model"/> (and the baseline). Coded errors as <see cref="OrtClassifier.Load"/>.</summary>
    public static OrtBenchmarkResult Run(OrtBenchmarkOptions options, IDiagnosticSink sink, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(sink);
        Validate(options);
        var batches = options.BatchSizes.Append(1).Distinct().Order().ToArray();

        var models = new List<OrtClassifier>();
        try
        {
            models.Add(OrtClassifier.Load(options.Model, options.Session, sink));
            if (options.Baseline is not null)
                models.Add(OrtClassifier.Load(options.Baseline, options.Session, sink));

            // Batch sizes and data first: what cannot run fails before minutes of timing.
            foreach (var m in models)
                foreach (int batch in batches)
                    m.CheckBatch(batch);
            double?[] accuracy = new double?[models.Count];
            DatasetSplits? splits = null;
            if (options.MeasureAccuracy)
            {
                splits = options.Data.Load(sink);
                foreach (var m in models) m.CheckFits(splits.Test);
            }

            var samples = new double[models.Count][];
            var throughput = models.Select(_ => new Dictionary<int, double>()).ToArray();
            foreach (int batch in batches)
            {
                ct.ThrowIfCancellationRequested();
                int runs = options.RunsFor(batch);
                double? seconds = batch == 1 ? options.Seconds : null;
                sink.Progress(seconds is double s
                    ? string.Create(CultureInfo.InvariantCulture, $"Timing batch {batch}: {options.Warmup} warm-up and {runs} to {20 * runs} timed runs per model (about {s:0.#} s), alternating")
                    : string.Create(CultureInfo.InvariantCulture, $"Timing batch {batch}: {options.Warmup} warm-up and {runs} timed runs per model"));
                var times = TimeAlternating(models, batch, options.Warmup, runs, seconds, ct);
                for (int m = 0; m < models.Count; m++)
                {
                    throughput[m][batch] = batch * times[m].Length / times[m].Sum();
                    if (batch == 1) samples[m] = [.. times[m].Select(s => s * 1000)];
                }
            }

            if (splits is not null)
            {
                // The user's choice; else each artifact's own contract when it records one; else the training split's
                // statistics.
                var chosen = options.Data.Normalize?.Resolve(splits.Train);
                var fromData = new Lazy<Normalization>(() => Normalization.FromDataset(splits.Train));
                int accuracyBatch = batches[^1];
                for (int m = 0; m < models.Count; m++)
                {
                    sink.Progress($"Measuring accuracy of {models[m].FilePath} on {splits.Test.Count.ToString(CultureInfo.InvariantCulture)} test images");
                    accuracy[m] = models[m].Accuracy(splits.Test, chosen ?? models[m].RecordedNormalization ?? fromData.Value, accuracyBatch, ct);
                }
            }

            var measured = models.Select((m, i) => new OrtModelMeasurement(m.FilePath, LatencyStats.FromSamples(samples[i]),
                throughput[i], accuracy[i], m.FileBytes, m.Parameters, m.Macs, DeviceName(m.Device),
                options.Session.Threads, options.Session.Optimization.ToString().ToLowerInvariant())).ToArray();
            var candidate = measured[0];
            var baseline = measured.Length > 1 ? measured[1] : null;
            return new OrtBenchmarkResult
            {
                Model = candidate.Model,
                LatencyMs = candidate.LatencyMs,
                Throughput = candidate.Throughput,
                Accuracy = candidate.Accuracy,
                FileBytes = candidate.FileBytes,
                Parameters = candidate.Parameters,
                Macs = candidate.Macs,
                Device = candidate.Device,
                Threads = candidate.Threads,
                Optimization = candidate.Optimization,
                Baseline = baseline,
                Ratio = baseline is null ? null : Compare(candidate, baseline) with { Speedup = PairedSpeedup(samples[1], samples[0]) },
            };
        }
        finally
        {
            foreach (var m in models) m.Dispose();
        }
    }

    /// <summary>As <see cref="TimeAgainst(string, string, int, OrtSessionSettings?, IDiagnosticSink, double?, CancellationToken)"/> with exactly <paramref name="runs"/> runs.</summary>
    public static OrtBenchmarkResult TimeAgainst(string candidate, string baseline, int runs, OrtSessionSettings? session,
        IDiagnosticSink sink, CancellationToken ct = default) => TimeAgainst(candidate, baseline, runs, session, sink, null, ct);

    /// <summary>
    /// Batch-1 latency of <paramref name="candidate"/> against <paramref name="baseline"/> (ONNX files), timed alternately,
    /// without accuracy: what the prune job's, the comparison's and the build report's before/after figures use. With
    /// <paramref name="seconds"/>, more runs (up to 20 x <paramref name="runs"/>) until about that much timing (see
    /// <see cref="OrtBenchmarkOptions.Seconds"/>). The sessions' threads do not spin between runs.
    /// </summary>
    public static OrtBenchmarkResult TimeAgainst(string candidate, string baseline, int runs, OrtSessionSettings? session,
        IDiagnosticSink sink, double? seconds, CancellationToken ct = default) => Run(new OrtBenchmarkOptions
        {
            Model = candidate,
            Baseline = baseline,
            MeasureAccuracy = false,
            BatchSizes = [1],
            Runs = runs,
            Warmup = Math.Min(10, runs),
            // Two sessions alternate: neither's threads may spin on the cores the other's run needs (measured: identical
            // graphs read 0.96 to 1.04x with spinning, 0.99 to 1.01x without; docs/benchmarks.md).
            Session = (session ?? new OrtSessionSettings()) with { AllowSpinning = false },
            Seconds = seconds,
        }, sink, ct);

    /// <summary><c>cpu</c> or <c>cuda</c>, as the CLI spells it.</summary>
    public static string DeviceName(OrtDeviceKind device) => device == OrtDeviceKind.Cuda ? "cuda" : "cpu";

    /// <summary>The ratios of <paramref name="candidate"/> against <paramref name="baseline"/>.</summary>
    public static OrtBenchmarkRatio Compare(OrtModelMeasurement candidate, OrtModelMeasurement baseline)
    {
        ArgumentNullException.ThrowIfNull(candidate);
        ArgumentNullException.ThrowIfNull(baseline);
        var throughput = candidate.Throughput.Keys.Where(baseline.Throughput.ContainsKey)
            .ToDictionary(b => b, b => candidate.Throughput[b] / baseline.Throughput[b]);
        return new OrtBenchmarkRatio(baseline.LatencyMs.P50 / candidate.LatencyMs.P50, throughput,
            (double)baseline.FileBytes / candidate.FileBytes,
            candidate.Parameters == 0 ? double.NaN : (double)baseline.Parameters / candidate.Parameters,
            candidate.Accuracy is double a && baseline.Accuracy is double b ? a - b : null);
    }

    /// <summary>Median over rounds of baseline time / candidate time (round i of each ran back to back).</summary>
    internal static double PairedSpeedup(IReadOnlyList<double> baseline, IReadOnlyList<double> candidate)
    {
        int n = Math.Min(baseline.Count, candidate.Count);
        var ratios = new double[n];
        for (int i = 0; i < n; i++) ratios[i] = baseline[i] / candidate[i];
        Array.Sort(ratios);
        return n == 0 ? double.NaN : n % 2 == 1 ? ratios[n / 2] : (ratios[n / 2 - 1] + ratios[n / 2]) / 2;
    }

    /// <summary>
    /// Seconds of each timed run of each model: warm-up runs first, then run i of model 0, run i of model 1, ... so
    /// the models alternate; odd rounds run the models in reverse order, so neither always runs first (warm caches). Inputs are filled once with a fixed pattern; the loop itself allocates nothing.
    /// </summary>
    private static double[][] TimeAlternating(List<OrtClassifier> models, int batch, int warmup, int runs, double? seconds,
        CancellationToken ct)
    {
        var runners = new List<OrtBatchRunner>();
        try
        {
            foreach (var m in models)
            {
                var runner = m.CreateRunner(batch);
                runners.Add(runner);
                var input = runner.Input;
                // Deterministic, non-constant input in the normalised range (constant input can take fast paths).
                for (int i = 0; i < input.Length; i++) input[i] = ((i * 37) % 101 / 50f) - 1f;
            }
            long warmStart = Stopwatch.GetTimestamp();
            for (int w = 0; w < warmup; w++)
                foreach (var r in runners) r.Run();
            if (seconds is double budget && warmup > 0)
            {
                // The warm-up's pace (the first runs are the slowest, so this errs towards fewer runs).
                double perRound = Stopwatch.GetElapsedTime(warmStart).TotalSeconds / warmup;
                runs = (int)Math.Clamp(budget / Math.Max(perRound, 1e-9), runs, 20.0 * runs);
            }
            var times = models.Select(_ => new double[runs]).ToArray();
            for (int i = 0; i < runs; i++)
            {
                ct.ThrowIfCancellationRequested();
                for (int k = 0; k < runners.Count; k++)
                {
                    int m = i % 2 == 0 ? k : runners.Count - 1 - k;
                    long start = Stopwatch.GetTimestamp();
                    runners[m].Run();
                    times[m][i] = Stopwatch.GetElapsedTime(start).TotalSeconds;
                }
            }
            return times;
        }
        finally
        {
            foreach (var r in runners) r.Dispose();
        }
    }

    private static void Validate(OrtBenchmarkOptions options)
    {
        if (options.BatchSizes is null || options.BatchSizes.Count == 0 || options.BatchSizes.Any(b => b < 1))
            throw new CompressException(DiagnosticCode.InvalidOption,
                $"Batch sizes must be positive (got {string.Join(", ", options.BatchSizes ?? [])}).",
                hint: "Use e.g. --batch 1 --batch 32.");
        if (options.Runs < 1)
            throw new CompressException(DiagnosticCode.InvalidOption, string.Create(CultureInfo.InvariantCulture,
                $"--runs must be at least 1 (got {options.Runs})."));
        if (options.Warmup < 0)
            throw new CompressException(DiagnosticCode.InvalidOption, string.Create(CultureInfo.InvariantCulture,
                $"--warmup must be 0 or more (got {options.Warmup})."));
        if (options.Session.Threads < 0 || options.Session.Threads > Runtime.TorchRuntime.MaxThreads)
            throw new CompressException(DiagnosticCode.InvalidOption, string.Create(CultureInfo.InvariantCulture,
                $"--threads must be 0 (ONNX Runtime's choice) or 1 to {Runtime.TorchRuntime.MaxThreads} (got {options.Session.Threads})."));
    }
}

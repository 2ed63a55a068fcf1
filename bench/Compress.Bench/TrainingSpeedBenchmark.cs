using System.Diagnostics;
using System.Globalization;
using Compress.Engine.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Compress.Bench;

/// <summary>
/// Issue 16's exploration: training-step throughput of resnet18-cifar (width 1, batch 64, 2 threads, random batches)
/// in the layouts and precisions TorchSharp 0.107 can reach, alternated round by round in one run: NCHW float32 (the
/// engine's default), channels-last float32 (TorchSharp has no memory_format API: a permute-contiguous-permute gives
/// NCHW-shaped tensors with NHWC strides, which libtorch's convolutions recognise), and bfloat16 weights and batches.
/// </summary>
internal static class TrainingSpeedBenchmark
{
    public static int Run(string[] args)
    {
        int rounds = BenchOptions.Integer(args, "--rounds", 4), steps = BenchOptions.Integer(args, "--steps", 6);
        double width = BenchOptions.Number(args, "--width", 1);
        int batch = BenchOptions.Integer(args, "--batch", 64);
        set_num_threads(BenchOptions.Integer(args, "--threads", 2));
        // bf16 only when asked (--bf16): without AVX512-BF16 or AMX (this AMD EPYC has AVX2 only) libtorch emulates it,
        // and a step takes minutes.
        string[] variants = args.Contains("--bf16") ? ["nchw-fp32", "channels-last-fp32", "nchw-bf16"] : ["nchw-fp32", "channels-last-fp32"];
        // With --pipeline, two more rows: the engine's Trainer over an in-memory dataset of random images (one epoch of
        // --epoch-steps batches per round, default 3 x --steps, so that the first step of each call, which creates
        // oneDNN's kernels, weighs as little as in a real epoch of hundreds of steps): the batch loader's worker thread
        // (shuffle, per-image crop and flip, normalisation, the channels-last re-layout), the loss read back every step,
        // the accuracy count, in NCHW and in channels-last.
        int epochSteps = BenchOptions.Integer(args, "--epoch-steps", 3 * steps);
        if (args.Contains("--pipeline")) variants = [.. variants, "trainer-nchw", "trainer-channels-last"];
        // --plain: the Trainer without augmentation and with the raw rows' optimizer (SGD lr 0.01, momentum 0.9, no
        // weight decay), to tell the data pipeline's cost from the recipe's.
        if (args.Contains("--plain")) variants = [.. variants, "trainer-nchw-plain", "trainer-channels-last-plain"];
        if (BenchOptions.Text(args, "--only") is string only) variants = [only];
        var times = variants.ToDictionary(v => v, _ => new List<double>());
        var models = new Dictionary<string, (ClassifierModel Model, optim.Optimizer Optimizer, Tensor Images, Tensor Labels)>();
        foreach (string variant in variants)
        {
            manual_seed(0);
            var model = ModelFactory.Create(new ModelOptions { Architecture = "resnet18-cifar", WidthMultiplier = width });
            var images = randn(batch, 3, 32, 32);
            if (variant.StartsWith("trainer-", StringComparison.Ordinal))
            {
                model.train();
                models[variant] = (model, null!, null!, null!);
                continue;
            }
            if (variant.StartsWith("channels-last", StringComparison.Ordinal))
            {
                using (no_grad())
                    foreach (var (_, p) in model.named_parameters())
                        if (p.dim() == 4) p.set_(ChannelsLast(p));
                images = ChannelsLast(images);
            }
            if (variant.EndsWith("bf16", StringComparison.Ordinal))
            {
                model.to(ScalarType.BFloat16);
                images = images.to(bfloat16);
            }
            model.train();
            models[variant] = (model, optim.SGD(model.parameters(), 0.01, 0.9), images, randint(0, 10, [batch], dtype: int64));
        }
        var dataset = new Lazy<Engine.Data.InMemoryImageDataset>(() =>
        {
            var random = new Random(0);
            byte[] pixels = new byte[epochSteps * batch * 3 * 32 * 32], labels = new byte[epochSteps * batch];
            random.NextBytes(pixels);
            for (int i = 0; i < labels.Length; i++) labels[i] = (byte)random.Next(10);
            return new Engine.Data.InMemoryImageDataset(new Engine.Data.ImageShape(3, 32, 32), pixels, labels,
                [.. Enumerable.Range(0, 10).Select(i => i.ToString(CultureInfo.InvariantCulture))], "random");
        });
        for (int round = 0; round < rounds; round++)
        {
            foreach (string variant in round % 2 == 0 ? variants : variants.Reverse())
            {
                var (model, optimizer, images, labels) = models[variant];
                if (variant.StartsWith("trainer-", StringComparison.Ordinal))
                {
                    var format = variant.StartsWith("trainer-nchw", StringComparison.Ordinal) ? Engine.Training.MemoryFormat.Nchw : Engine.Training.MemoryFormat.ChannelsLast;
                    var options = new Engine.Training.TrainingOptions { Epochs = 1, BatchSize = batch, MemoryFormat = format, Seed = round };
                    if (variant.EndsWith("-plain", StringComparison.Ordinal))
                        options = options with { Augment = false, Sgd = new Engine.Training.SgdOptions { LearningRate = 0.01, Momentum = 0.9, WeightDecay = 0 } };
                    // Step times as the other rows measure them: from one step's start to the next one's (data wait,
                    // forward, backward, optimizer, mask, loss read-back), the first step of each call left out as the
                    // raw rows leave out their warm-up step.
                    var clock = new StepClock();
                    new Engine.Training.Trainer(model, CPU).Train(dataset.Value, Engine.Data.Normalization.Cifar10, options, null, "bench", clock);
                    times[variant].AddRange(clock.Steps.Skip(1));
                    continue;
                }
                TrainingBenchmark.Step(model, optimizer, images, labels);
                for (int i = 0; i < steps; i++)
                {
                    var clock = Stopwatch.StartNew();
                    TrainingBenchmark.Step(model, optimizer, images, labels);
                    times[variant].Add(clock.Elapsed.TotalSeconds);
                }
            }
        }
        var c = CultureInfo.InvariantCulture;
        Console.WriteLine(string.Create(c, $"## Training step, resnet18-cifar width {width}, batch {batch}, {get_num_threads()} threads, {rounds} alternated rounds of {steps} steps"));
        Console.WriteLine();
        Console.WriteLine("| variant | median step (s) | min step (s) | images/s (median) | vs nchw-fp32 |");
        Console.WriteLine("|---|---:|---:|---:|---:|");
        double reference = times.TryGetValue("nchw-fp32", out var nchw) ? Timing.Median(nchw) : double.NaN;
        foreach (var (variant, list) in times)
            Console.WriteLine(string.Create(c, $"| {variant} | {Timing.Median(list):F3} | {list.Min():F3} | {batch / Timing.Median(list):F1} | {reference / Timing.Median(list):F2}x |"));
        return 0;
    }

    /// <summary>The same values in NHWC memory order, still shaped NCHW.</summary>
    internal static Tensor ChannelsLast(Tensor t) => t.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2);

    /// <summary>Times each training step of a <see cref="Engine.Training.Trainer"/> run from its hooks.</summary>
    private sealed class StepClock : Engine.Training.ITrainingHook
    {
        private long _last = -1;

        public List<double> Steps { get; } = [];

        public void BeforeForward(long step, long totalSteps) => Mark();

        public void BeforeOptimizerStep()
        {
        }

        public void AfterTraining() => Mark();

        private void Mark()
        {
            long now = Stopwatch.GetTimestamp();
            if (_last >= 0) Steps.Add(Stopwatch.GetElapsedTime(_last, now).TotalSeconds);
            _last = now;
        }
    }
}

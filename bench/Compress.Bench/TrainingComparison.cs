using System.Diagnostics;
using System.Globalization;
using static TorchSharp.torch;

namespace Compress.Bench;

/// <summary>
/// Training throughput of two models that compute the same function from the same weights, side by side: forward,
/// cross-entropy, backward and an SGD step (lr 0.01, momentum 0.9) on one pre-made random batch (the data pipeline is
/// not measured), train mode. The first step of each is the warm-up and the equivalence check (same loss to 1e-5
/// relative); then <c>rounds</c> rounds of <c>steps</c> timed steps, the two models alternating and the one going
/// first swapping each round, so that both see the same machine load.
/// </summary>
internal static class TrainingComparison
{
    /// <summary>Largest relative difference of the first-step losses accepted as "the same computation".</summary>
    public const double LossTolerance = 1e-5;

    /// <summary>Runs the comparison and prints its table; returns 1 when the first-step losses differ, else 0.</summary>
    /// <param name="title">Heading of the table.</param>
    /// <param name="subject">The model under test (first row).</param>
    /// <param name="reference">The model it is compared with (second row; the ratio is subject / reference).</param>
    /// <param name="batch">Images per step.</param>
    /// <param name="classes">Label range.</param>
    /// <param name="rounds">Alternating rounds.</param>
    /// <param name="steps">Timed steps per model per round.</param>
    /// <param name="seed">Seed of the batch.</param>
    public static int Run(string title, (string Name, nn.Module<Tensor, Tensor> Model) subject,
        (string Name, nn.Module<Tensor, Tensor> Model) reference, int batch, int classes, int rounds, int steps, int seed)
    {
        var c = CultureInfo.InvariantCulture;
        var generator = new Generator((ulong)seed);
        using var images = randn([batch, 3, 32, 32], generator: generator);
        using var labels = randint(0, classes, [batch], dtype: int64, generator: generator);
        var models = new[] { subject, reference };
        var optimizers = models.Select(m => optim.SGD(m.Model.parameters(), 0.01, 0.9)).ToArray();
        try
        {
            foreach (var (_, model) in models) model.train();

            // Warm-up step of each from the identical starting point: the losses must agree.
            double lossSubject = Step(subject.Model, optimizers[0], images, labels);
            double lossReference = Step(reference.Model, optimizers[1], images, labels);
            double relative = Math.Abs(lossSubject - lossReference) / Math.Max(Math.Abs(lossReference), 1e-12);
            bool same = relative <= LossTolerance;
            Console.WriteLine(string.Create(c,
                $"First-step loss: {subject.Name} {lossSubject:R}, {reference.Name} {lossReference:R}, relative difference {relative:G3} ({(same ? "same" : "DIFFERENT")}, tolerance {LossTolerance:G3})"));

            var times = new[] { new List<double>(), new List<double>() };
            for (int round = 0; round < rounds; round++)
            {
                foreach (int m in round % 2 == 0 ? new[] { 0, 1 } : [1, 0])
                {
                    for (int i = 0; i < steps; i++)
                    {
                        long start = Stopwatch.GetTimestamp();
                        Step(models[m].Model, optimizers[m], images, labels, readLoss: false);
                        times[m].Add(Stopwatch.GetElapsedTime(start).TotalSeconds);
                    }
                }
            }

            Console.WriteLine();
            Console.WriteLine(string.Create(c,
                $"## {title}: batch {batch}, {rounds} alternating rounds of {steps} steps ({rounds * steps} timed steps per row), libtorch threads {get_num_threads()}"));
            Console.WriteLine();
            Console.WriteLine($"| model | parameters | median step (s) | min step (s) | images/s (median) | ratio to {reference.Name} (medians) | ratio (min steps) |");
            Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|");
            double referenceRate = batch / Timing.Median(times[1]);
            double referenceMin = times[1].Min();
            for (int m = 0; m < 2; m++)
            {
                double median = Timing.Median(times[m]);
                long parameters = models[m].Model.parameters().Sum(p => p.numel());
                Console.WriteLine(string.Create(c,
                    $"| {models[m].Name} | {parameters:N0} | {median:F3} | {times[m].Min():F3} | {batch / median:F1} | {batch / median / referenceRate:F3}x | {referenceMin / times[m].Min():F3}x |"));
            }
            Console.WriteLine();
            for (int m = 0; m < 2; m++)
            {
                var perRound = times[m].Chunk(steps).Select(r => (batch / Timing.Median([.. r])).ToString("F1", c));
                Console.WriteLine($"Per-round median images/s, {models[m].Name}: {string.Join(", ", perRound)}");
            }
            Console.WriteLine();
            return same ? 0 : 1;
        }
        finally
        {
            foreach (var optimizer in optimizers) optimizer.Dispose();
        }
    }

    /// <summary>Copies every state-dict tensor of <paramref name="from"/> into <paramref name="to"/>, which must have
    /// the same keys and shapes (parameters registered in the same order too); returns the number of tensors.</summary>
    public static int CopyState(nn.Module from, nn.Module to)
    {
        var source = from.state_dict();
        var target = to.state_dict();
        if (!source.Keys.Order(StringComparer.Ordinal).SequenceEqual(target.Keys.Order(StringComparer.Ordinal), StringComparer.Ordinal))
            throw new InvalidOperationException("The two models have different state-dict keys: " +
                string.Join(", ", source.Keys.Except(target.Keys).Concat(target.Keys.Except(source.Keys)).Take(10)));
        var sourceOrder = from.named_parameters().Select(p => p.name);
        var targetOrder = to.named_parameters().Select(p => p.name);
        if (!sourceOrder.SequenceEqual(targetOrder, StringComparer.Ordinal))
            throw new InvalidOperationException("The two models register their parameters in different orders.");
        using var noGrad = no_grad();
        foreach (var (key, value) in source)
        {
            using var scope = NewDisposeScope();
            target[key].copy_(value);
        }
        return source.Count;
    }

    private static double Step(nn.Module<Tensor, Tensor> model, optim.Optimizer optimizer, Tensor images, Tensor labels,
        bool readLoss = true)
    {
        using var scope = NewDisposeScope();
        optimizer.zero_grad();
        var loss = nn.functional.cross_entropy(model.forward(images), labels);
        loss.backward();
        optimizer.step();
        return readLoss ? loss.item<float>() : double.NaN;
    }
}

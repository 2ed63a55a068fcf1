using System.Diagnostics;
using System.Globalization;
using Compress.Engine.Analysis;
using TorchSharp;
using static TorchSharp.torch;

namespace Compress.Bench;

/// <summary>
/// Times the cosine-knee analysis of a CIFAR ResNet-18-shaped parameter set (11,173,962 values) two ways: the engine's
/// exact fast analysis (curve + knee + kurtoses), and the paper's procedure done plainly in libtorch (101 pruned float32
/// copies, each thresholded by the k-th smallest |w| and compared by float32 cosine similarity).
/// </summary>
internal static class AnalysisBenchmark
{
    private const long ResNet18Parameters = 11_173_962;

    public static int Run(string[] args)
    {
        int runs = IntOption(args, "--runs", 20);
        int baselineRuns = IntOption(args, "--baseline-runs", runs);
        int kthRuns = IntOption(args, "--kthvalue-runs", 0);
        int seed = IntOption(args, "--seed", 0);

        using var parameters = ResNet18ShapedParameters(seed);
        long n = parameters.named_parameters().Sum(p => p.parameter.numel());
        if (n != ResNet18Parameters) throw new InvalidOperationException($"Expected {ResNet18Parameters} parameters, built {n}.");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Analysis benchmark: {n:N0} parameters in {parameters.named_parameters().Count()} tensors (CIFAR ResNet-18 shapes, seed {seed}); {Environment.ProcessorCount} cores, libtorch threads {torch.get_num_threads()}."));

        PruneAnalysis analysis = PruneAnalyzer.Analyze(parameters);
        var fast = Time(runs, warmup: 3, () => analysis = PruneAnalyzer.Analyze(parameters));
        double[] official = OfficialCurve(parameters, kthvalue: false);
        var naive = Time(baselineRuns, warmup: 0, () => official = OfficialCurve(parameters, kthvalue: false));
        var naiveKth = kthRuns > 0 ? Time(kthRuns, warmup: 0, () => OfficialCurve(parameters, kthvalue: true)) : null;

        double maxDiff = 0;
        int at = 0;
        for (int i = 0; i < official.Length; i++)
        {
            double d = Math.Abs(official[i] - analysis.Cosine[i]);
            if (d > maxDiff) { maxDiff = d; at = i; }
        }

        Console.WriteLine();
        Console.WriteLine("| Method | Median ms | Min ms | Runs | Ratio (median / fast) |");
        Console.WriteLine("|---|---:|---:|---:|---:|");
        Row("Fast exact analysis (curve + knee + kurtoses)", fast, fast.Median);
        Row("Paper's procedure in libtorch (sort abs(w) once; 101 pruned float32 copies + cosine)", naive, fast.Median);
        if (naiveKth is not null) Row("Paper's procedure in libtorch (kthvalue threshold per rate)", naiveKth, fast.Median);
        Console.WriteLine();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Max |float32 official curve - exact curve| = {maxDiff:E3} at rate {analysis.Rates[at]:0.00} (official {official[at]:R}, exact {analysis.Cosine[at]:R})."));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Knee index {analysis.Knee.Index} (rate {analysis.Knee.Rate:0.00}, cosine {analysis.Knee.Cosine:0.000000}); K = {analysis.KurtosisOfKurtoses:0.000000}; safe rate {analysis.SafeRate:0.000000}{(analysis.Clamped ? " (clamped)" : "")}."));
        return 0;
    }

    private static void Row(string method, Timing t, double fastMedian) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {method} | {t.Median:0.0} | {t.Min:0.0} | {t.Runs} | {t.Median / fastMedian:0.0}x |"));

    private sealed record Timing(double Median, double Min, int Runs);

    private static Timing Time(int runs, int warmup, Action action)
    {
        for (int i = 0; i < warmup; i++) action();
        runs = Math.Max(1, runs);
        var ms = new double[runs];
        for (int i = 0; i < runs; i++)
        {
            var sw = Stopwatch.StartNew();
            action();
            ms[i] = sw.Elapsed.TotalMilliseconds;
        }
        Array.Sort(ms);
        double median = runs % 2 == 1 ? ms[runs / 2] : (ms[runs / 2 - 1] + ms[runs / 2]) / 2;
        return new Timing(median, ms[0], runs);
    }

    /// <summary>
    /// The paper's procedure, plainly: the flattened float32 vector, then for each of the 101 rates a pruned copy with
    /// the k smallest |w| zeroed and its float32 cosine with the original. <paramref name="kthvalue"/> finds each
    /// rate's threshold with <c>kthvalue</c> (zeroing |w| &lt;= threshold); otherwise |w| is sorted once per run and
    /// the first k sorted indices are zeroed, exactly k like <c>torch.nn.utils.prune</c>'s topk.
    /// </summary>
    private static double[] OfficialCurve(nn.Module module, bool kthvalue)
    {
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        var flat = torch.cat(module.named_parameters().Select(p => p.parameter.detach().reshape(-1)).ToArray(), 0);
        var magnitude = flat.abs();
        long n = flat.numel();
        var order = kthvalue ? null : magnitude.sort(0).Indices;
        var rates = torch.linspace(0, 1, 101).data<float>().ToArray();
        var curve = new double[rates.Length];
        for (int i = 0; i < rates.Length; i++)
        {
            using var step = torch.NewDisposeScope();
            long k = (long)Math.Round((double)rates[i] * n, MidpointRounding.ToEven);
            var pruned = flat.clone();
            if (k > 0 && order is not null)
            {
                pruned.index_fill_(0, order.narrow(0, 0, k), 0);
            }
            else if (k > 0)
            {
                var threshold = magnitude.kthvalue(k, 0).values;
                pruned.masked_fill_(magnitude <= threshold, 0);
            }
            curve[i] = nn.functional.cosine_similarity(flat, pruned, 0).item<float>();
        }
        return curve;
    }

    /// <summary>
    /// Parameters shaped like the CIFAR ResNet-18 (3x3 stem, four stages of two basic blocks, 1x1 projection shortcuts,
    /// 10-way head): kaiming-normal convolutions, BatchNorm gamma ~ 1 ± 0.1 and beta ~ ±0.05, uniform linear layer.
    /// </summary>
    private static ParameterBag ResNet18ShapedParameters(int seed)
    {
        using var generator = new torch.Generator((ulong)seed);
        // The parameters take over the final tensors' handles; the scope frees the temporaries.
        using var scope = torch.NewDisposeScope();
        var list = new List<(string, Tensor)>();
        void Conv(string name, long outC, long inC, long k) =>
            list.Add((name + "_weight", torch.randn([outC, inC, k, k], generator: generator) * Math.Sqrt(2.0 / (inC * k * k))));
        void Bn(string name, long c)
        {
            list.Add((name + "_weight", 1 + 0.1 * torch.randn([c], generator: generator)));
            list.Add((name + "_bias", 0.05 * torch.randn([c], generator: generator)));
        }
        Conv("conv1", 64, 3, 3);
        Bn("bn1", 64);
        long inPlanes = 64;
        foreach (var (stage, planes, stride) in new[] { (1, 64L, 1), (2, 128L, 2), (3, 256L, 2), (4, 512L, 2) })
        {
            for (int block = 0; block < 2; block++)
            {
                string b = $"layer{stage}_{block}_";
                Conv(b + "conv1", planes, inPlanes, 3);
                Bn(b + "bn1", planes);
                Conv(b + "conv2", planes, planes, 3);
                Bn(b + "bn2", planes);
                if (block == 0 && (stride != 1 || inPlanes != planes))
                {
                    Conv(b + "shortcut_0", planes, inPlanes, 1);
                    Bn(b + "shortcut_1", planes);
                }
                inPlanes = planes;
            }
        }
        double bound = 1 / Math.Sqrt(512);
        list.Add(("linear_weight", (torch.rand([10, 512], generator: generator) * 2 - 1) * bound));
        list.Add(("linear_bias", (torch.rand([10], generator: generator) * 2 - 1) * bound));
        return new ParameterBag(list);
    }

    /// <summary>A module that only holds named parameters (no forward), standing in for the model classes.</summary>
    private sealed class ParameterBag : nn.Module
    {
        public ParameterBag(IEnumerable<(string Name, Tensor Value)> parameters) : base(nameof(ParameterBag))
        {
            foreach (var (name, value) in parameters)
            {
                var parameter = new TorchSharp.Modules.Parameter(value);
                // Created inside the caller's dispose scope: keep the parameter alive beyond it.
                parameter.DetachFromDisposeScope();
                register_parameter(name, parameter);
            }
        }
    }

    private static int IntOption(string[] args, string option, int fallback)
    {
        int i = Array.IndexOf(args, option);
        return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
    }
}

using System.Globalization;
using TorchSharp;
using static TorchSharp.torch;

namespace Compress.Bench;

/// <summary>
/// One convolution's gradients in NCHW against channels-last, in this process (run each shape under a timeout: oneDNN's
/// 1x1 strided backward-weights kernel hangs or computes wrong gradients for some channels-last shapes, oneDNN issue
/// #6035). Prints one line: the shape, the largest relative difference of the weight gradient and of the input gradient.
/// </summary>
internal static class ChannelsLastCheck
{

    public static int Run(string[] args)
    {
        if (args.Contains("--model")) return RunModel(args);
        if (args.Contains("--op")) return RunOp(args);
        int ic = BenchOptions.Integer(args, "--ic", 4), oc = BenchOptions.Integer(args, "--oc", 8);
        int kernel = BenchOptions.Integer(args, "--kernel", 1), stride = BenchOptions.Integer(args, "--stride", 2);
        int size = BenchOptions.Integer(args, "--size", 32), batch = BenchOptions.Integer(args, "--batch", 32);
        int groups = BenchOptions.Integer(args, "--groups", 1);
        set_num_threads(BenchOptions.Integer(args, "--threads", 2));
        manual_seed(0);
        using var x = randn(batch, ic, size, size);
        using var w = randn(oc, ic / groups, kernel, kernel);
        using var g = nn.functional.conv2d(x, w, strides: [stride, stride], padding: [kernel / 2, kernel / 2], groups: groups);
        using var upstream = randn_like(g);
        var (dwRef, dxRef) = Gradients(x, w, upstream, stride, kernel, groups, channelsLast: false);
        var (dw, dx) = Gradients(x, w, upstream, stride, kernel, groups, channelsLast: true);
        double Relative(Tensor a, Tensor b) => a.sub(b).abs().max().item<float>() / Math.Max(b.abs().max().item<float>(), 1e-30f);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"ic {ic} oc {oc} k {kernel} s {stride} groups {groups} size {size} batch {batch} threads {get_num_threads()}: weight-grad rel diff {Relative(dw, dwRef):E2}, input-grad rel diff {Relative(dx, dxRef):E2}"));
        return 0;
    }

    private static (Tensor Weight, Tensor Input) Gradients(Tensor x, Tensor w, Tensor upstream, int stride, int kernel, int groups, bool channelsLast)
    {
        var input = (channelsLast ? Engine.Training.ChannelsLastLayout.Of(x) : x.clone()).requires_grad_();
        var weight = (channelsLast ? Engine.Training.ChannelsLastLayout.Of(w) : w.clone()).requires_grad_();
        var y = nn.functional.conv2d(input, weight, strides: [stride, stride], padding: [kernel / 2, kernel / 2], groups: groups);
        using var loss = y.mul(channelsLast ? Engine.Training.ChannelsLastLayout.Of(upstream) : upstream).sum();
        loss.backward();
        return (weight.grad!.contiguous(), input.grad!.contiguous());
    }

    /// <summary>
    /// resnet18-cifar (--width, default 0.25) forward + backward on one random batch (--batch, default 64) in train mode:
    /// each parameter's gradient in float32 NCHW and float32 channels-last against float64 NCHW, as the largest
    /// difference over the largest float64 gradient entry of that tensor. Shows whether the layouts differ by rounding.
    /// </summary>
    private static int RunModel(string[] args)
    {
        double width = BenchOptions.Number(args, "--width", 0.25);
        int batch = BenchOptions.Integer(args, "--batch", 64);
        set_num_threads(BenchOptions.Integer(args, "--threads", 2));
        manual_seed(0);
        using var images = randn(batch, 3, 32, 32);
        using var labels = randint(0, 10, [batch], dtype: ScalarType.Int64);
        Dictionary<string, Tensor> Gradients(ScalarType type, bool channelsLast)
        {
            manual_seed(1);
            var model = Engine.Models.ModelFactory.Create(new Engine.Models.ModelOptions { Architecture = "resnet18-cifar", WidthMultiplier = width });
            model.to(type);
            model.train();
            var x = images.to(type);
            if (channelsLast)
            {
                Engine.Training.ChannelsLastLayout.ToChannelsLast(model);
                x = Engine.Training.ChannelsLastLayout.Of(x);
            }
            var logits = model.forward(x);
            var loss = nn.functional.cross_entropy(logits, labels);
            loss.backward();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{type} channels-last {channelsLast}: loss {loss.to(ScalarType.Float64).item<double>():R}, logits[0,0..3] {string.Join(" ", logits[0].to(ScalarType.Float64).data<double>().Take(3))}"));
            return model.named_parameters().ToDictionary(p => p.name, p => p.parameter.grad!.to(ScalarType.Float64).contiguous());
        }
        var reference = Gradients(ScalarType.Float64, false);
        var nchw = Gradients(ScalarType.Float32, false);
        var last = Gradients(ScalarType.Float32, true);
        var last64 = Gradients(ScalarType.Float64, true);
        var c = CultureInfo.InvariantCulture;
        Console.WriteLine("| parameter | fp32 NCHW vs fp64 | fp32 channels-last vs fp64 | fp32 NCHW vs channels-last | fp64 channels-last vs fp64 |");
        Console.WriteLine("|---|---:|---:|---:|---:|");
        foreach (var (name, r) in reference)
        {
            double scale = r.abs().max().item<double>();
            double Err(Tensor a, Tensor b) => a.sub(b).abs().max().item<double>() / scale;
            Console.WriteLine(string.Create(c, $"| {name} | {Err(nchw[name], r):E1} | {Err(last[name], r):E1} | {Err(nchw[name], last[name]):E1} | {Err(last64[name], r):E1} |"));
        }
        return 0;
    }

    /// <summary>One op (--op batchnorm|avgpool|mean|relu-add) forward + backward, float32 NCHW and channels-last against float64.</summary>
    private static int RunOp(string[] args)
    {
        string op = BenchOptions.Text(args, "--op")!;
        int channels = BenchOptions.Integer(args, "--ic", 128), size = BenchOptions.Integer(args, "--size", 4), batch = BenchOptions.Integer(args, "--batch", 64);
        set_num_threads(BenchOptions.Integer(args, "--threads", 2));
        manual_seed(0);
        using var x0 = randn(batch, channels, size, size, dtype: ScalarType.Float64);
        using var up0 = randn(batch, channels, op is "avgpool" or "mean" ? 1 : size, op is "avgpool" or "mean" ? 1 : size, dtype: ScalarType.Float64);
        Tensor? bnWeight = null, bnBias = null;
        Tensor Grad(ScalarType type, bool last)
        {
            var x = x0.to(type);
            if (last) x = Engine.Training.ChannelsLastLayout.Of(x);
            x = x.detach().requires_grad_();
            Tensor y = op switch
            {
                "batchnorm" => nn.functional.batch_norm(x, zeros(channels, dtype: type), ones(channels, dtype: type), bnWeight = ones(channels, dtype: type).requires_grad_(), bnBias = zeros(channels, dtype: type).requires_grad_(), training: true),
                "avgpool" => nn.functional.adaptive_avg_pool2d(x, [1, 1]),
                "mean" => x.mean([2, 3], keepdim: true),
                _ => nn.functional.relu(x.add(x.mul(0.5))),
            };
            y.mul(up0.to(type)).sum().backward();
            var g = x.grad!.to(ScalarType.Float64).contiguous();
            // The per-channel sum of the input gradient: exactly 0 for BatchNorm in training mode; a bias here is what
            // the weight gradient of the convolution before it multiplies by its (positive, after ReLU) input.
            if (op == "batchnorm")
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {type} channels-last {last}: bias grad[0..2] {string.Join(" ", bnBias!.grad!.to(ScalarType.Float64).data<double>().Take(2).Select(v => v.ToString("R", CultureInfo.InvariantCulture)))}; weight grad[0..2] {string.Join(" ", bnWeight!.grad!.to(ScalarType.Float64).data<double>().Take(2).Select(v => v.ToString("R", CultureInfo.InvariantCulture)))}"));
            if (op == "batchnorm")
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {type} channels-last {last}: max |sum over N,H,W of dx| / max |dx| = {g.sum([0, 2, 3]).abs().max().item<double>() / g.abs().max().item<double>():E1}"));
            return g;
        }
        var r = Grad(ScalarType.Float64, false);
        double scale = r.abs().max().item<double>();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{op} c {channels} size {size} batch {batch}: input-grad vs fp64: NCHW {Grad(ScalarType.Float32, false).sub(r).abs().max().item<double>() / scale:E1}, channels-last {Grad(ScalarType.Float32, true).sub(r).abs().max().item<double>() / scale:E1}"));
        return 0;
    }
}

using System.Diagnostics;
using System.Globalization;
using Compress.Engine.Diagnostics;
using Compress.Engine.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Compress.Engine.Benchmark;

/// <summary>
/// Forward latency of a <see cref="ClassifierModel"/> in TorchSharp at batch 1: the in-process counterpart of the ONNX
/// Runtime benchmark, so a pruned model's speed can be seen before (or without) exporting it.
/// </summary>
public static class TorchLatency
{
    /// <summary>
    /// Times <see cref="TorchLatencyOptions.Runs"/> forwards of one image on the device the model's parameters are on,
    /// in eval mode under <c>no_grad</c>, after <see cref="TorchLatencyOptions.Warmup"/> untimed ones. The input is a
    /// fixed non-constant pattern (constant input can take fast paths). On CUDA each run waits for the device, so the
    /// time is the kernels' and not only their launch. The model's training mode is restored afterwards.
    /// </summary>
    /// <returns>Nearest-rank percentiles in milliseconds (<see cref="LatencyStats"/>).</returns>
    /// <exception cref="CompressException"><see cref="DiagnosticCode.InvalidOption"/> for fewer than 1 run or a negative
    /// warm-up count.</exception>
    public static LatencyStats Measure(ClassifierModel model, TorchLatencyOptions? options = null, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        options ??= new TorchLatencyOptions();
        if (options.Runs < 1)
            throw new CompressException(DiagnosticCode.InvalidOption, string.Create(CultureInfo.InvariantCulture,
                $"The latency needs at least 1 timed run (got {options.Runs})."), hint: "Use e.g. --runs 100.");
        if (options.Warmup < 0)
            throw new CompressException(DiagnosticCode.InvalidOption, string.Create(CultureInfo.InvariantCulture,
                $"The warm-up count must be 0 or more (got {options.Warmup})."), hint: "Use e.g. --warmup 10.");

        var device = model.parameters().FirstOrDefault()?.device ?? CPU;
        bool cuda = device.type == DeviceType.CUDA;
        bool wasTraining = model.training;
        model.eval();
        try
        {
            using var noGrad = no_grad();
            using var input = Pattern(model.InputShape, device);
            for (int i = 0; i < options.Warmup; i++)
            {
                ct.ThrowIfCancellationRequested();
                using var scope = NewDisposeScope();
                model.call(input);
                if (cuda) torch.cuda.synchronize(device);
            }
            var samples = new double[options.Runs];
            for (int i = 0; i < samples.Length; i++)
            {
                ct.ThrowIfCancellationRequested();
                using var scope = NewDisposeScope();
                long start = Stopwatch.GetTimestamp();
                model.call(input);
                if (cuda) torch.cuda.synchronize(device);
                samples[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            }
            return LatencyStats.FromSamples(samples);
        }
        finally
        {
            model.train(wasTraining);
        }
    }

    /// <summary>One image <c>[1, C, H, W]</c> of the pattern the ONNX Runtime benchmark uses, in [-1, 1].</summary>
    private static Tensor Pattern(InputShape shape, Device device)
    {
        var data = new float[shape.Channels * shape.Height * shape.Width];
        for (int i = 0; i < data.Length; i++) data[i] = ((i * 37) % 101 / 50f) - 1f;
        var cpu = tensor(data, [1, shape.Channels, shape.Height, shape.Width]);
        if (device.type == DeviceType.CPU) return cpu;
        using (cpu) return cpu.to(device);
    }
}

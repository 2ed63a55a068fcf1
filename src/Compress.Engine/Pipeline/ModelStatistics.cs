using static TorchSharp.torch;

namespace Compress.Engine.Pipeline;

/// <summary>Parameter count and sparsity (fraction of exact zeros) over a model's trainable parameters.</summary>
public sealed record ModelStatistics(long Parameters, long Zeros)
{
    /// <summary>Fraction of parameters that are exactly zero.</summary>
    public double Sparsity => Parameters == 0 ? 0 : (double)Zeros / Parameters;

    /// <summary>Counts over every parameter of <paramref name="module"/>.</summary>
    public static ModelStatistics Measure(nn.Module module)
    {
        ArgumentNullException.ThrowIfNull(module);
        long total = 0, zeros = 0;
        using (no_grad())
        {
            foreach (var (_, p) in module.named_parameters())
            {
                using var scope = NewDisposeScope();
                total += p.numel();
                zeros += p.eq(0).sum().item<long>();
            }
        }
        return new ModelStatistics(total, zeros);
    }
}

using static TorchSharp.torch;

namespace Compress.Engine.Training;

/// <summary>
/// The decorrelation regulariser of Zhu et al. (IJCAI 2018), as issue 13 defines it: for a layer's weight W (rows are
/// the filters, W reshaped to <c>[out, -1]</c>), R(W) = ||P - diag(P)||_F / n, where P is the Pearson correlation
/// matrix of the n active filters (mean |w| above <see cref="ActiveThreshold"/>). Differentiable; the trainer computes it
/// on the dense weights (before dynamic pruning masks them for the forward pass). Unlike the source project's version (which only handled kernels with two rows and so returned 0 on
/// 3x3 and 1x1 convolutions), it works on any kernel shape.
/// </summary>
public static class DecorrelationRegularizer
{
    /// <summary>A filter is active when its mean |w| exceeds this.</summary>
    public const double ActiveThreshold = 1e-4;

    /// <summary>R(W) for one weight (a 0-d tensor, differentiable; 0 with fewer than two active filters).</summary>
    public static Tensor Penalty(Tensor weight)
    {
        ArgumentNullException.ThrowIfNull(weight);
        var rows = weight.reshape(weight.shape[0], -1);
        using var active = rows.detach().abs().mean([1]).gt(ActiveThreshold);
        using var indices = active.nonzero().flatten();
        long n = indices.shape[0];
        if (n < 2) return weight.sum().mul(0);
        var correlation = Correlation(rows.index_select(0, indices));
        var offDiagonal = correlation - correlation.diagonal().diag();
        return offDiagonal.square().sum().sqrt() / n;
    }

    /// <summary>The sum of R over every conv weight of <paramref name="module"/> (4-d weights), and the linear weights
    /// too when <paramref name="includeLinear"/>. The <see cref="DecorrelationVariant.Literal"/> variant only counts
    /// convolutions whose kernels have exactly two rows, as the source project's code did (0 for 3x3 and 1x1).</summary>
    public static Tensor Total(nn.Module module, bool includeLinear = false, DecorrelationVariant variant = DecorrelationVariant.Pearson)
    {
        ArgumentNullException.ThrowIfNull(module);
        Tensor? total = null;
        foreach (var (_, parameter) in Weights(module, includeLinear))
        {
            if (variant == DecorrelationVariant.Literal && !HasTwoRowKernels(parameter)) continue;
            var r = Penalty(parameter);
            total = total is null ? r : total + r;
        }
        return total ?? zeros(1).sum();
    }

    /// <summary>Whether the literal variant counts <paramref name="weight"/>: a convolution whose kernels have two rows.</summary>
    public static bool HasTwoRowKernels(Tensor weight)
    {
        ArgumentNullException.ThrowIfNull(weight);
        return weight.dim() == 4 && weight.shape[2] == 2;
    }

    /// <summary>
    /// How correlated the filters are: the mean of |r| over the off-diagonal pairs of active filters, averaged over the
    /// conv layers (and linear layers when <paramref name="includeLinear"/>) that have at least two active filters. 0
    /// when none has. Not differentiable; for reports.
    /// </summary>
    public static double MeanAbsoluteCorrelation(nn.Module module, bool includeLinear = false)
    {
        ArgumentNullException.ThrowIfNull(module);
        var values = Weights(module, includeLinear).Select(w => MeanAbsoluteCorrelation(w.Weight)).OfType<double>().ToList();
        return values.Count == 0 ? 0 : values.Average();
    }

    /// <summary>The mean of |r| over the off-diagonal pairs of <paramref name="weight"/>'s active filters; null with
    /// fewer than two.</summary>
    public static double? MeanAbsoluteCorrelation(Tensor weight)
    {
        ArgumentNullException.ThrowIfNull(weight);
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var rows = weight.detach().to(ScalarType.Float64).reshape(weight.shape[0], -1);
        var indices = rows.abs().mean([1]).gt(ActiveThreshold).nonzero().flatten();
        long n = indices.shape[0];
        if (n < 2) return null;
        var correlation = Correlation(rows.index_select(0, indices)).abs();
        double offDiagonal = correlation.sum().item<double>() - correlation.diagonal().sum().item<double>();
        return offDiagonal / (n * (n - 1));
    }

    /// <summary>The Pearson correlation matrix of the rows of <paramref name="x"/> (torch.corrcoef): centred rows,
    /// covariance, divided by both deviations.</summary>
    private static Tensor Correlation(Tensor x)
    {
        var centred = x - x.mean([1], keepdim: true);
        var covariance = centred.matmul(centred.t());
        var deviation = covariance.diagonal().clamp_min(1e-24).sqrt();
        return covariance / deviation.unsqueeze(1) / deviation.unsqueeze(0);
    }

    private static IEnumerable<(string Name, Tensor Weight)> Weights(nn.Module module, bool includeLinear) =>
        module.named_parameters()
            .Where(p => p.name.EndsWith(".weight", StringComparison.Ordinal) && (p.parameter.dim() == 4 || (includeLinear && p.parameter.dim() == 2)))
            .Select(p => (p.name, (Tensor)p.parameter));
}

/// <summary>Which decorrelation regulariser <see cref="TrainingOptions.Decorrelation"/> adds.</summary>
public enum DecorrelationVariant
{
    /// <summary>R(W) on every conv layer, any kernel shape (the default).</summary>
    Pearson,

    /// <summary>The source project's version, for comparison only: only kernels with exactly two rows count, so it adds
    /// 0 for 3x3 and 1x1 convolutions (a warning says so).</summary>
    Literal,
}

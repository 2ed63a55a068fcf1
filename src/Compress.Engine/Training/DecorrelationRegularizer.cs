using static TorchSharp.torch;

namespace Compress.Engine.Training;

/// <summary>
/// The decorrelation regulariser of Zhu et al. (IJCAI 2018), as issue 13 defines it: for a layer's weight W (rows are
/// the filters, W reshaped to <c>[out, -1]</c>), R(W) = ||P - diag(P)||_F / n, where P is the Pearson correlation
/// matrix of the n active filters (mean |w| above <see cref="ActiveThreshold"/>). Differentiable; computed on the
/// dense weights. Unlike the source project's version (which only handled kernels with two rows and so returned 0 on
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
        var x = rows.index_select(0, indices);
        // Pearson correlation of the rows (torch.corrcoef): centred rows, covariance, divided by both deviations.
        var centred = x - x.mean([1], keepdim: true);
        var covariance = centred.matmul(centred.t());
        var deviation = covariance.diagonal().clamp_min(1e-24).sqrt();
        var correlation = covariance / deviation.unsqueeze(1) / deviation.unsqueeze(0);
        var offDiagonal = correlation - correlation.diagonal().diag();
        return offDiagonal.square().sum().sqrt() / n;
    }

    /// <summary>The sum of R over every conv weight of <paramref name="module"/> (4-d weights), and the linear weights
    /// too when <paramref name="includeLinear"/>.</summary>
    public static Tensor Total(nn.Module module, bool includeLinear = false)
    {
        ArgumentNullException.ThrowIfNull(module);
        Tensor? total = null;
        foreach (var (name, parameter) in module.named_parameters())
        {
            if (!name.EndsWith(".weight", StringComparison.Ordinal) || !(parameter.dim() == 4 || (includeLinear && parameter.dim() == 2))) continue;
            var r = Penalty(parameter);
            total = total is null ? r : total + r;
        }
        return total ?? zeros(1).sum();
    }
}

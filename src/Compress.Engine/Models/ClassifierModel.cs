using Compress.Engine.Models.Graph;
using static TorchSharp.torch;

namespace Compress.Engine.Models;

/// <summary>
/// Base of every built-in model: an image classifier mapping a batch <c>[N, C, H, W]</c> to logits
/// <c>[N, classes]</c>. Submodules are registered in PyTorch's module order, so <c>named_parameters()</c> and
/// <see cref="OrderedStateDict"/> list keys exactly as <c>model.named_parameters()</c> / <c>model.state_dict()</c> do in
/// PyTorch for the same architecture (the pruning analysis flattens parameters in that order).
/// </summary>
public abstract class ClassifierModel : nn.Module<Tensor, Tensor>
{
    protected ClassifierModel(string name, ModelOptions options, InputShape inputShape) : base(name)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(inputShape);
        Options = options;
        InputShape = inputShape;
    }

    /// <summary>The (validated, canonical) options the model was built with.</summary>
    public ModelOptions Options { get; }

    /// <summary>The model's natural input: LeNet-5 1x28x28, CIFAR models 3x32x32, ImageNet ResNet-18 3x224x224.</summary>
    public InputShape InputShape { get; }

    /// <summary>
    /// The state dict (parameters and persistent buffers) in PyTorch's order: for each module in pre-order, its own
    /// parameters, then its own buffers, then its children. TorchSharp's <c>state_dict()</c> lists all parameters
    /// before all buffers instead, which is why this exists: checkpoints we write then list keys as PyTorch would.
    /// The tensors are the model's own (not copies); do not dispose them.
    /// </summary>
    public IReadOnlyList<(string Key, Tensor Value)> OrderedStateDict()
    {
        var result = new List<(string, Tensor)>();
        Collect(this, "", result);
        return result;
    }

    /// <summary>
    /// The model's computation as a <see cref="ModelGraph"/> whose stateful nodes name the state-dict prefixes of this
    /// model's modules (every convolution, BatchNorm and linear layer exactly once). Interpreting it in eval mode gives
    /// the same logits as <c>forward</c>; the ONNX exporter is driven by it.
    /// </summary>
    public abstract ModelGraph DescribeGraph();

    /// <summary>Total number of scalar parameters (weights and biases; buffers excluded).</summary>
    public long ParameterCount() => parameters().Sum(p => p.numel());

    private static void Collect(nn.Module module, string prefix, List<(string, Tensor)> into)
    {
        foreach (var (name, parameter) in module.named_parameters(recurse: false)) into.Add((prefix + name, parameter));
        foreach (var (name, buffer) in module.named_buffers(recurse: false, include_nonpersistent: false))
            into.Add((prefix + name, buffer));
        foreach (var (name, child) in module.named_children()) Collect(child, prefix + name + ".", into);
    }
}

using static TorchSharp.torch;

namespace Compress.Engine.Models;

/// <summary>
/// A module that only holds children, so that a graph's dotted state-dict prefixes (<c>layer1.0.conv1</c>) become
/// the same module tree PyTorch has, and parameters keep PyTorch's names and order.
/// </summary>
internal sealed class ModuleContainer(string name) : nn.Module(name)
{
    /// <summary>Registers <paramref name="child"/> under <paramref name="childName"/>.</summary>
    public void Add(string childName, nn.Module child) => register_module(childName, child);

    /// <summary>Registers a copy of <paramref name="initial"/> as a parameter (<paramref name="trainable"/>) or a buffer.</summary>
    public void AddTensor(string tensorName, Tensor initial, bool trainable)
    {
        if (trainable) register_parameter(tensorName, new TorchSharp.Modules.Parameter(initial.clone(), true));
        else register_buffer(tensorName, initial.clone());
    }

    /// <summary>The child called <paramref name="childName"/>, or null.</summary>
    public nn.Module? Child(string childName) =>
        named_children().FirstOrDefault(c => c.name == childName).module;
}

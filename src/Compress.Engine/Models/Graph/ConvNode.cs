namespace Compress.Engine.Models.Graph;

/// <summary>
/// A 2-d convolution with square stride, padding and dilation; the kernel size and channel counts come from the
/// weight <c>Module.weight</c> <c>[out, in/groups, kH, kW]</c>, so they cannot disagree with the checkpoint.
/// </summary>
/// <param name="Name">Node name (the module prefix).</param>
/// <param name="Input">Value read.</param>
/// <param name="Output">Value written.</param>
/// <param name="Module">State-dict prefix of the module, e.g. <c>layer1.0.conv1</c>.</param>
/// <param name="Stride">Stride in both directions.</param>
/// <param name="Padding">Zero padding on every side.</param>
/// <param name="Dilation">Dilation in both directions (1 = none).</param>
/// <param name="Groups">Groups (1 = dense convolution).</param>
/// <param name="HasBias">Whether <c>Module.bias</c> exists.</param>
public sealed record ConvNode(string Name, string Input, string Output, string Module, int Stride, int Padding,
    int Dilation = 1, int Groups = 1, bool HasBias = false) : GraphNode(Name, [Input], Output);

namespace Compress.Engine.Models.Graph;

/// <summary>A fully connected layer <c>x W^T + b</c>; sizes come from <c>Module.weight</c> <c>[out, in]</c>.</summary>
/// <param name="Name">Node name (the module prefix).</param>
/// <param name="Input">Value read (<c>[N, in]</c>).</param>
/// <param name="Output">Value written.</param>
/// <param name="Module">State-dict prefix, e.g. <c>fc</c>.</param>
/// <param name="HasBias">Whether <c>Module.bias</c> exists.</param>
public sealed record LinearNode(string Name, string Input, string Output, string Module, bool HasBias = true)
    : GraphNode(Name, [Input], Output);

namespace Compress.Engine.Models.Graph;

/// <summary>Element-wise <c>max(x, 0)</c>.</summary>
/// <param name="Name">Node name.</param>
/// <param name="Input">Value read.</param>
/// <param name="Output">Value written.</param>
public sealed record ReluNode(string Name, string Input, string Output) : GraphNode(Name, [Input], Output);

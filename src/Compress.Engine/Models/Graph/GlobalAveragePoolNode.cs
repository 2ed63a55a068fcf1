namespace Compress.Engine.Models.Graph;

/// <summary>Mean over height and width, keeping them as size 1: <c>[N, C, H, W]</c> to <c>[N, C, 1, 1]</c>.</summary>
/// <param name="Name">Node name.</param>
/// <param name="Input">Value read.</param>
/// <param name="Output">Value written.</param>
public sealed record GlobalAveragePoolNode(string Name, string Input, string Output) : GraphNode(Name, [Input], Output);

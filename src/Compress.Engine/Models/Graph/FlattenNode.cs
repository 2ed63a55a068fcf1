namespace Compress.Engine.Models.Graph;

/// <summary>Flattens every dimension after the batch: <c>[N, ...]</c> to <c>[N, product]</c>.</summary>
/// <param name="Name">Node name.</param>
/// <param name="Input">Value read.</param>
/// <param name="Output">Value written.</param>
public sealed record FlattenNode(string Name, string Input, string Output) : GraphNode(Name, [Input], Output);

namespace Compress.Engine.Models.Graph;

/// <summary>
/// Element-wise sum of two values of the same shape (a residual connection: both inputs' channels are tied, which is
/// what channel pruning must respect).
/// </summary>
/// <param name="Name">Node name.</param>
/// <param name="Left">First value (the residual branch).</param>
/// <param name="Right">Second value (the shortcut).</param>
/// <param name="Output">Value written.</param>
public sealed record AddNode(string Name, string Left, string Right, string Output) : GraphNode(Name, [Left, Right], Output);

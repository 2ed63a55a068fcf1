namespace Compress.Engine.Models.Graph;

/// <summary>2-d max pooling with a square window (floor mode, padding counts as minus infinity).</summary>
/// <param name="Name">Node name.</param>
/// <param name="Input">Value read.</param>
/// <param name="Output">Value written.</param>
/// <param name="Kernel">Window size.</param>
/// <param name="Stride">Stride in both directions.</param>
/// <param name="Padding">Padding on every side.</param>
public sealed record MaxPoolNode(string Name, string Input, string Output, int Kernel, int Stride, int Padding = 0)
    : GraphNode(Name, [Input], Output);

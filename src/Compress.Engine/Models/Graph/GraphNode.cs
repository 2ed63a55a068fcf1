namespace Compress.Engine.Models.Graph;

/// <summary>
/// One operation of a <see cref="ModelGraph"/>. Every node writes exactly one value; value names are unique in a graph.
/// </summary>
/// <param name="Name">Unique node name (for nodes with state, the module's state-dict prefix).</param>
/// <param name="Inputs">Names of the values the node reads, in operator order.</param>
/// <param name="Output">Name of the value the node writes.</param>
public abstract record GraphNode(string Name, IReadOnlyList<string> Inputs, string Output);

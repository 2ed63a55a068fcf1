namespace Compress.Engine.Models;

/// <summary>One image as a model expects it (no batch dimension): channels, height, width.</summary>
public sealed record InputShape(int Channels, int Height, int Width);

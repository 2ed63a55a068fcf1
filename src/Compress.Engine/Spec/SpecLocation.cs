namespace Compress.Engine.Spec;

/// <summary>A 1-based line and column in a spec file, so diagnostics can point at the offending key or value.</summary>
public readonly record struct SpecLocation(int Line, int Column);

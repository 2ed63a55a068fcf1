namespace Compress.Engine.Models.Onnx;

/// <summary>Where an imported model came from, and what its export keeps: the user's input and output names, the
/// symbolic batch dimension's name and the opset.</summary>
/// <param name="Path">The <c>.onnx</c> file.</param>
/// <param name="InputName">The graph input's name.</param>
/// <param name="OutputName">The graph output's name.</param>
/// <param name="BatchDimension">The batch dimension's symbolic name (<c>batch</c> when the file had a fixed batch).</param>
/// <param name="Opset">The default-domain opset.</param>
/// <param name="Sha256">SHA-256 of the file's bytes (lower-case hex).</param>
public sealed record OnnxOrigin(string Path, string InputName, string OutputName, string BatchDimension, int Opset, string Sha256)
{
    /// <summary>The file's metadata properties (a Compress artifact's preprocessing contract among them).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; init; } = new Dictionary<string, string>();

    /// <summary>How often each ONNX op type occurs in the file.</summary>
    public IReadOnlyDictionary<string, int> OpHistogram { get; init; } = new Dictionary<string, int>();
}

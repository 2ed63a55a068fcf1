using Compress.Engine.Models.Graph;

namespace Compress.Engine.Models.Onnx;

/// <summary>What <see cref="OnnxImporter"/> reads from an <c>.onnx</c> file.</summary>
/// <param name="Graph">The network, with <see cref="ModelGraph.StateShapes"/>.</param>
/// <param name="Input">The per-image input shape.</param>
/// <param name="Classes">Number of logits.</param>
/// <param name="State">The initial values of every state tensor, by state-dict key (float32, row-major; views of the
/// file's bytes where the import did not change them).</param>
/// <param name="Sources">For each state key, the initializer it was read from (and how, when it was transposed or
/// scaled on the way), for the report.</param>
/// <param name="Origin">Names and opset the export keeps.</param>
/// <param name="OpHistogram">How often each ONNX op type occurs in the file, by op type.</param>
public sealed record ImportedOnnxModel(ModelGraph Graph, InputShape Input, int Classes,
    IReadOnlyDictionary<string, ImportedTensor> State, IReadOnlyDictionary<string, string> Sources, OnnxOrigin Origin,
    IReadOnlyDictionary<string, int> OpHistogram)
{
    /// <summary>The batch size the file fixes, or null when the batch is symbolic.</summary>
    public int? FixedBatch { get; init; }

    /// <summary>The per-image shape (batch left out) of every ONNX value that flows from the input, by ONNX name.</summary>
    public IReadOnlyDictionary<string, long[]> ValueShapes { get; init; } = new Dictionary<string, long[]>();
}

namespace Compress.Engine.Export;

/// <summary>Options of <see cref="OnnxExporter.Export"/>.</summary>
public sealed record OnnxExportOptions
{
    /// <summary>
    /// Fold every BatchNorm that directly follows a convolution (whose output nothing else reads) into that
    /// convolution's weight and bias, as inference runtimes would anyway; default true. False keeps
    /// <c>BatchNormalization</c> nodes in inference form with the running statistics as initializers.
    /// </summary>
    public bool FoldBatchNorm { get; init; } = true;

    /// <summary>Key-value pairs written to the model's <c>metadata_props</c> (sorted by key); default none.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; init; } = new Dictionary<string, string>();

    /// <summary>ONNX opset of the default domain, 11 to 21; default null: the opset of the file an imported model came
    /// from, else 17. Ops whose ONNX form changed between opsets (HardSwish, LayerNormalization, Gelu, ReduceMean) are
    /// written in the form the opset has.</summary>
    public int? Opset { get; init; }

    /// <summary>
    /// The preprocessing contract to record in the metadata (<see cref="Data.Preprocessing.ToMetadata"/>); with
    /// <see cref="Data.Preprocessing.Embedded"/>, the graph also gets <c>Sub</c> and <c>Div</c> nodes after the input,
    /// so the model takes raw pixel values 0 to 255. Default null: no contract.
    /// </summary>
    public Data.Preprocessing? Preprocessing { get; init; }
}

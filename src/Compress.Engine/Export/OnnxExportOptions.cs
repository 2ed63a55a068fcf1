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

    /// <summary>ONNX opset of the default domain; default 17, the only one supported (the ops used are the same from 13
    /// on, but the exporter is tested at 17).</summary>
    public int Opset { get; init; } = 17;
}

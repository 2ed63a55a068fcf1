namespace Compress.Engine.Data;

/// <summary>The training and test halves of one dataset; both share shape and classes.</summary>
/// <param name="Train">Images the model is trained (and fine-tuned) on.</param>
/// <param name="Test">Held-out images accuracy is measured on.</param>
public sealed record DatasetSplits(IImageDataset Train, IImageDataset Test)
{
    /// <summary>The shorter side the images were resized to before the centre crop to the model's input, or null when
    /// they were used at their own size (the preprocessing contract records it).</summary>
    public int? ResizeShorterSide { get; init; }
}

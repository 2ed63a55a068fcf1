namespace Compress.Engine.Data;

/// <summary>How <see cref="BatchLoader"/> batches, shuffles, augments and normalises a dataset.</summary>
public sealed record LoaderOptions
{
    /// <summary>Images per batch. Default 64.</summary>
    public int BatchSize { get; init; } = 64;

    /// <summary>Visit the images in a fresh random order every epoch (training). Default false (evaluation order).</summary>
    public bool Shuffle { get; init; }

    /// <summary>
    /// Augmentation decided per image, with a horizontal flip with probability 0.5. Images smaller than 64 pixels on a
    /// side get the standard CIFAR augmentation (pad 4 pixels with zeros, crop back at a random offset); larger ones
    /// torchvision's ImageNet one, a random resized crop (8% to 100% of the area, aspect 3/4 to 4/3) resized back to
    /// the input size. The crop is taken from the stored image, which is already the centre crop at the model's input
    /// size, not from the original photo. Default false.
    /// </summary>
    public bool Augment { get; init; }

    /// <summary>Seed of shuffling and augmentation; an epoch's batches depend only on (Seed, epoch). Default 0.</summary>
    public int Seed { get; init; }

    /// <summary>Per-channel normalisation; default null: pixels scaled to [0, 1] only.</summary>
    public Normalization? Normalization { get; init; }

    /// <summary>Skip the last batch when it is smaller than <see cref="BatchSize"/>. Default false.</summary>
    public bool DropLast { get; init; }

    /// <summary>
    /// Hand out images with channels-last strides (NCHW shape, NHWC memory), re-laid on the worker thread so the trainer
    /// does not pay for it. Default false.
    /// </summary>
    public bool ChannelsLast { get; init; }

    /// <summary>Batches prepared ahead on the worker thread (memory: Prefetch x one batch). Default 2.</summary>
    public int Prefetch { get; init; } = 2;
}

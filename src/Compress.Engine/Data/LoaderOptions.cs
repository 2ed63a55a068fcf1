namespace Compress.Engine.Data;

/// <summary>How <see cref="BatchLoader"/> batches, shuffles, augments and normalises a dataset.</summary>
public sealed record LoaderOptions
{
    /// <summary>Images per batch. Default 64.</summary>
    public int BatchSize { get; init; } = 64;

    /// <summary>Visit the images in a fresh random order every epoch (training). Default false (evaluation order).</summary>
    public bool Shuffle { get; init; }

    /// <summary>
    /// Standard CIFAR augmentation, decided per image: pad 4 pixels with zeros, crop back to the original size at a
    /// random offset, and flip horizontally with probability 0.5. Default false.
    /// </summary>
    public bool Augment { get; init; }

    /// <summary>Seed of shuffling and augmentation; an epoch's batches depend only on (Seed, epoch). Default 0.</summary>
    public int Seed { get; init; }

    /// <summary>Per-channel normalisation; default null: pixels scaled to [0, 1] only.</summary>
    public Normalization? Normalization { get; init; }

    /// <summary>Skip the last batch when it is smaller than <see cref="BatchSize"/>. Default false.</summary>
    public bool DropLast { get; init; }

    /// <summary>Batches prepared ahead on the worker thread (memory: Prefetch x one batch). Default 2.</summary>
    public int Prefetch { get; init; } = 2;
}

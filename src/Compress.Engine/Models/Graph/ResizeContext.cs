namespace Compress.Engine.Models.Graph;

/// <summary>
/// What <see cref="GraphNode.Resize"/> reads while a channel-pruned graph is made: each value's channel layout before
/// pruning and how many of a run of its channels are kept.
/// </summary>
/// <param name="values">The channel layout of every value before pruning.</param>
/// <param name="isKept">Whether the channel atom is kept.</param>
internal sealed class ResizeContext(IReadOnlyDictionary<string, ValueChannels> values, Func<int, bool> isKept)
{
    /// <summary>The channel layout of <paramref name="value"/> before pruning.</summary>
    public ValueChannels Channels(string value) => values.TryGetValue(value, out var channels)
        ? channels
        : throw new ArgumentException($"No channel layout was recorded for '{value}'.", nameof(value));

    /// <summary>How many of <paramref name="atoms"/> are kept.</summary>
    public int Kept(IEnumerable<int> atoms) => atoms.Count(isKept);
}

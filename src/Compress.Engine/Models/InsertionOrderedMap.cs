using System.Collections;
using System.Diagnostics.CodeAnalysis;

namespace Compress.Engine.Models;

/// <summary>
/// A read-only string-keyed dictionary that enumerates in insertion order (module order for channel widths). The
/// engine targets net8.0, which has no generic OrderedDictionary; Dictionary's order is not promised.
/// </summary>
internal sealed class InsertionOrderedMap<TValue> : IReadOnlyDictionary<string, TValue>
{
    private readonly List<KeyValuePair<string, TValue>> _entries = [];
    private readonly Dictionary<string, TValue> _lookup = new(StringComparer.Ordinal);

    /// <summary>Adds a key; a duplicate key throws, as Dictionary.Add does.</summary>
    public void Add(string key, TValue value)
    {
        _lookup.Add(key, value);
        _entries.Add(new KeyValuePair<string, TValue>(key, value));
    }

    /// <inheritdoc />
    public TValue this[string key] => _lookup[key];

    /// <inheritdoc />
    public IEnumerable<string> Keys => _entries.Select(e => e.Key);

    /// <inheritdoc />
    public IEnumerable<TValue> Values => _entries.Select(e => e.Value);

    /// <inheritdoc />
    public int Count => _entries.Count;

    /// <inheritdoc />
    public bool ContainsKey(string key) => _lookup.ContainsKey(key);

    /// <inheritdoc />
    public bool TryGetValue(string key, [MaybeNullWhen(false)] out TValue value) => _lookup.TryGetValue(key, out value);

    /// <inheritdoc />
    public IEnumerator<KeyValuePair<string, TValue>> GetEnumerator() => _entries.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}

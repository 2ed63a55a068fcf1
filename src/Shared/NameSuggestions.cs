// "Did you mean ...?" for misspelt names: the engine's spec parser and the MSBuild task both need it, and the task
// cannot reference the engine, so this one file is compiled into both (Compress.Engine, Compress.Tasks). Plain
// netstandard2.0 C#.
#nullable enable
using System;
using System.Collections.Generic;

namespace Compress.Shared
{
    /// <summary>Case-insensitive edit distance and the closest known name.</summary>
    internal static class NameSuggestions
    {
        /// <summary>Levenshtein distance (insert, delete, substitute; each cost 1), ignoring case.</summary>
        public static int EditDistance(string a, string b)
        {
            a = a.ToUpperInvariant();
            b = b.ToUpperInvariant();
            var previous = new int[b.Length + 1];
            var current = new int[b.Length + 1];
            for (int j = 0; j <= b.Length; j++) previous[j] = j;
            for (int i = 1; i <= a.Length; i++)
            {
                current[0] = i;
                for (int j = 1; j <= b.Length; j++)
                    current[j] = Math.Min(Math.Min(previous[j] + 1, current[j - 1] + 1), previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
                (previous, current) = (current, previous);
            }
            return previous[b.Length];
        }

        /// <summary>The first of the nearest <paramref name="known"/> names, when at most <paramref name="maxDistance"/> away.</summary>
        public static string? Closest(string key, IEnumerable<string> known, int maxDistance)
        {
            string? best = null;
            int bestDistance = int.MaxValue;
            foreach (var name in known)
            {
                int distance = EditDistance(key, name);
                if (distance < bestDistance)
                {
                    bestDistance = distance;
                    best = name;
                }
            }
            return bestDistance <= maxDistance ? best : null;
        }
    }
}

// The names users write for pruning choices (spec keys' values, MSBuild metadata values, command-line values),
// declared once: the engine's PruningNames maps them to types, the MSBuild task validates metadata against them, and
// tests check build/compress.schema.json and the docs against them. Compiled into Compress.Engine and Compress.Tasks
// (the task cannot reference the engine). Plain netstandard2.0 C#.
#nullable enable

namespace Compress.Shared
{
    /// <summary>Every accepted name, lower case, in the order the docs list them.</summary>
    internal static class PruningChoices
    {
        /// <summary>Pruning methods.</summary>
        public static readonly string[] Methods = { "global", "unstructured", "channel", "layerwise", "dynamic" };

        /// <summary>Criteria of the unstructured method.</summary>
        public static readonly string[] Criteria = { "magnitude", "gradient", "random", "random-bernoulli" };

        /// <summary>Scopes of the unstructured method.</summary>
        public static readonly string[] Scopes = { "global", "layer" };

        /// <summary>Schedules.</summary>
        public static readonly string[] Schedules = { "one-shot", "iterative" };

        /// <summary>Shapes of an iterative schedule.</summary>
        public static readonly string[] ScheduleShapes = { "linear", "cubic", "geometric" };

        /// <summary>What the dynamic method masks.</summary>
        public static readonly string[] DynamicVariants = { "unstructured", "filter" };

        /// <summary>How the dynamic filter variant ranks filters of different layers.</summary>
        public static readonly string[] FilterRankings = { "normalized", "raw" };

        /// <summary>Decorrelation regularisers: the default, and the source project's literal one (for comparison).</summary>
        public static readonly string[] DecorrelationVariants = { "pearson", "literal" };

        /// <summary>Memory formats of training (not a pruning choice, but named the same way everywhere).</summary>
        public static readonly string[] MemoryFormats = { "auto", "nchw", "channels-last" };

        /// <summary>Training precisions.</summary>
        public static readonly string[] Precisions = { "float32", "bfloat16" };

        /// <summary>Channel rankings (the channel method's criteria).</summary>
        public static readonly string[] Rankings = { "l2", "l1", "naive", "gradient", "random" };
    }
}

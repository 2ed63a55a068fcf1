using Compress.Engine.Pruning.Importance;

namespace Compress.Engine.Pruning;

/// <summary>
/// The one table of the names users write for pruning choices (command line; spec and build metadata to follow), and
/// what each stands for. Parsing anywhere goes through here; nothing else switches on these strings.
/// </summary>
public static class PruningNames
{
    private static readonly (string Name, PruneMethod Method)[] MethodTable =
    [
        ("global", PruneMethod.Global), ("unstructured", PruneMethod.Unstructured), ("channel", PruneMethod.Channel),
        ("layerwise", PruneMethod.Layerwise), ("dynamic", PruneMethod.Dynamic),
    ];

    private static readonly (string Name, Func<IWeightImportance> Create)[] CriterionTable =
    [
        ("magnitude", () => new MagnitudeImportance()), ("gradient", () => new GradientMagnitudeImportance()),
        ("random", () => new RandomImportance()), ("random-bernoulli", () => new RandomImportance(independent: true)),
    ];

    private static readonly (string Name, PruneScope Scope)[] ScopeTable = [("global", PruneScope.Global), ("layer", PruneScope.Layer)];

    private static readonly (string Name, PruneScheduleShape Shape)[] ShapeTable =
    [
        ("linear", PruneScheduleShape.Linear), ("cubic", PruneScheduleShape.Cubic), ("geometric", PruneScheduleShape.Geometric),
    ];

    /// <summary>Method names: <c>global</c> (the paper's), <c>unstructured</c>, <c>channel</c>, <c>layerwise</c>,
    /// <c>dynamic</c>.</summary>
    public static IReadOnlyList<string> Methods { get; } = Shared.PruningChoices.Methods;

    /// <summary>Criterion names: <c>magnitude</c>, <c>gradient</c>, <c>random</c> (exactly k), <c>random-bernoulli</c>
    /// (each weight with probability s).</summary>
    public static IReadOnlyList<string> Criteria { get; } = Shared.PruningChoices.Criteria;

    /// <summary>Scope names: <c>global</c>, <c>layer</c>.</summary>
    public static IReadOnlyList<string> Scopes { get; } = Shared.PruningChoices.Scopes;

    /// <summary>Schedule names: <c>one-shot</c>, <c>iterative</c>.</summary>
    public static IReadOnlyList<string> Schedules { get; } = Shared.PruningChoices.Schedules;

    /// <summary>Schedule shape names: <c>linear</c>, <c>cubic</c>, <c>geometric</c>.</summary>
    public static IReadOnlyList<string> ScheduleShapes { get; } = Shared.PruningChoices.ScheduleShapes;

    /// <summary>Dynamic pruning variants: <c>unstructured</c>, <c>filter</c>.</summary>
    public static IReadOnlyList<string> DynamicVariants { get; } = Shared.PruningChoices.DynamicVariants;

    /// <summary>Decorrelation variants: <c>pearson</c> (default), <c>literal</c>.</summary>
    public static IReadOnlyList<string> DecorrelationVariants { get; } = Shared.PruningChoices.DecorrelationVariants;

    /// <summary>The dynamic variant named <paramref name="name"/>, or null.</summary>
    public static Dynamic.DynamicPruningVariant? DynamicVariant(string? name) =>
        Same("unstructured", name) ? Dynamic.DynamicPruningVariant.Unstructured
        : Same("filter", name) ? Dynamic.DynamicPruningVariant.Filter : null;

    /// <summary>Filter rankings of the dynamic filter variant: <c>normalized</c> (default), <c>raw</c>.</summary>
    public static IReadOnlyList<string> FilterRankings { get; } = Shared.PruningChoices.FilterRankings;

    /// <summary>The filter ranking named <paramref name="name"/>, or null.</summary>
    public static Dynamic.FilterRanking? FilterRanking(string? name) =>
        Same("normalized", name) ? Dynamic.FilterRanking.Normalized : Same("raw", name) ? Dynamic.FilterRanking.Raw : null;

    /// <summary>The name of <paramref name="variant"/>.</summary>
    public static string NameOf(Dynamic.DynamicPruningVariant variant) => variant == Dynamic.DynamicPruningVariant.Filter ? "filter" : "unstructured";

    /// <summary>The name of <paramref name="variant"/>.</summary>
    public static string NameOf(Training.DecorrelationVariant variant) => variant == Training.DecorrelationVariant.Literal ? "literal" : "pearson";

    /// <summary>The name of <paramref name="ranking"/>.</summary>
    public static string NameOf(Dynamic.FilterRanking ranking) => ranking == Dynamic.FilterRanking.Raw ? "raw" : "normalized";

    /// <summary>The decorrelation variant named <paramref name="name"/>, or null.</summary>
    public static Training.DecorrelationVariant? DecorrelationVariant(string? name) =>
        Same("pearson", name) ? Training.DecorrelationVariant.Pearson
        : Same("literal", name) ? Training.DecorrelationVariant.Literal : null;

    /// <summary>Training memory formats: <c>auto</c> (default), <c>nchw</c>, <c>channels-last</c>.</summary>
    public static IReadOnlyList<string> MemoryFormats { get; } = Shared.PruningChoices.MemoryFormats;

    /// <summary>The memory format named <paramref name="name"/>, or null.</summary>
    public static Training.MemoryFormat? MemoryFormat(string? name) =>
        Same("auto", name) ? Training.MemoryFormat.Auto : Same("nchw", name) ? Training.MemoryFormat.Nchw
        : Same("channels-last", name) ? Training.MemoryFormat.ChannelsLast : null;

    /// <summary>The name of <paramref name="format"/>.</summary>
    public static string NameOf(Training.MemoryFormat format) => format switch
    {
        Training.MemoryFormat.Nchw => "nchw",
        Training.MemoryFormat.ChannelsLast => "channels-last",
        _ => "auto",
    };

    /// <summary>Training precisions: <c>float32</c> (default), <c>bfloat16</c>.</summary>
    public static IReadOnlyList<string> Precisions { get; } = Shared.PruningChoices.Precisions;

    /// <summary>The training precision named <paramref name="name"/>, or null.</summary>
    public static Training.TrainingPrecision? Precision(string? name) =>
        Same("float32", name) ? Training.TrainingPrecision.Float32 : Same("bfloat16", name) ? Training.TrainingPrecision.BFloat16 : null;

    /// <summary>The name of <paramref name="precision"/>.</summary>
    public static string NameOf(Training.TrainingPrecision precision) =>
        precision == Training.TrainingPrecision.BFloat16 ? "bfloat16" : "float32";

    /// <summary>Whether every shared name has an entry in this file's tables and no table has a name the shared list
    /// lacks (a test checks it).</summary>
    internal static bool TablesMatchTheSharedNames() =>
        MethodTable.Select(m => m.Name).SequenceEqual(Methods) && CriterionTable.Select(c => c.Name).SequenceEqual(Criteria) &&
        ScopeTable.Select(s => s.Name).SequenceEqual(Scopes) && ShapeTable.Select(s => s.Name).SequenceEqual(ScheduleShapes) &&
        DynamicVariants.All(v => DynamicVariant(v) is not null) && DecorrelationVariants.All(v => DecorrelationVariant(v) is not null) &&
        FilterRankings.All(v => FilterRanking(v) is not null) && MemoryFormats.All(v => MemoryFormat(v) is not null) &&
        Precisions.All(v => Precision(v) is not null);

    /// <summary>The method named <paramref name="name"/> (case-insensitive), or null.</summary>
    public static PruneMethod? Method(string? name) =>
        MethodTable.Where(m => Same(m.Name, name)).Select(m => (PruneMethod?)m.Method).FirstOrDefault();

    /// <summary>The name of <paramref name="method"/>.</summary>
    public static string NameOf(PruneMethod method) => MethodTable.First(m => m.Method == method).Name;

    /// <summary>A new criterion named <paramref name="name"/> (case-insensitive); an exception for an unknown name
    /// (the command line restricts the names first).</summary>
    public static IWeightImportance Criterion(string name) =>
        CriterionTable.Where(c => Same(c.Name, name)).Select(c => c.Create()).FirstOrDefault()
        ?? throw new ArgumentException($"Unknown criterion '{name}'; known: {string.Join(", ", Criteria)}.", nameof(name));

    /// <summary>The scope named <paramref name="name"/>, or null.</summary>
    public static PruneScope? Scope(string? name) =>
        ScopeTable.Where(s => Same(s.Name, name)).Select(s => (PruneScope?)s.Scope).FirstOrDefault();

    /// <summary>The schedule shape named <paramref name="name"/>, or null.</summary>
    public static PruneScheduleShape? ScheduleShape(string? name) =>
        ShapeTable.Where(s => Same(s.Name, name)).Select(s => (PruneScheduleShape?)s.Shape).FirstOrDefault();

    private static bool Same(string a, string? b) => string.Equals(a, b?.Trim(), StringComparison.OrdinalIgnoreCase);
}

using System.CommandLine;
using Compress.Engine.Diagnostics;
using Compress.Engine.Pruning;
using Compress.Engine.Pruning.Dynamic;
using Compress.Engine.Training;

namespace Compress.Cli.Commands;

/// <summary>Dynamic pruning and decorrelation options, declared once for <c>train</c> and <c>prune --method dynamic</c>.</summary>
internal sealed class DynamicOptionSet
{
    public DynamicOptionSet(string variantDescription)
    {
        Variant = new Option<string?>("--dynamic-prune") { Description = variantDescription };
        Variant.AcceptOnlyFromAmong([.. PruningNames.DynamicVariants]);
        Target = new Option<double?>("--target-sparsity")
        {
            Description = "Dynamic pruning: the final sparsity; filter: the fraction of prunable filters masked, unstructured: the fraction of the conv and linear weights (classifier excluded).",
        };
        FilterRanking = new Option<string?>("--filter-ranking")
        {
            Description = "Dynamic filter pruning: normalized (default: each filter's mean |w| against its layer's, one global ranking) or raw (the raw mean |w|; empties deep layers first).",
        };
        FilterRanking.AcceptOnlyFromAmong([.. PruningNames.FilterRankings]);
        MaskInterval = new Option<int?>("--mask-interval") { Description = "Dynamic pruning: steps between mask updates (default 16)." };
        RampEnd = new Option<double?>("--ramp-end") { Description = "Dynamic pruning: fraction of training at which the target is reached and the mask frozen (default 0.75)." };
        Decorrelation = new Option<double>("--decorrelation")
        {
            Description = "Weight alpha of the decorrelation regulariser (Zhu et al., IJCAI 2018) added to the training loss; 0 (default) turns it off.",
            DefaultValueFactory = _ => 0,
        };
        DecorrelationVariant = new Option<string?>("--decorrelation-variant")
        {
            Description = "pearson (default: every conv layer, any kernel) or literal (the source project's version, for comparison: 0 on 3x3 and 1x1 kernels).",
        };
        DecorrelationVariant.AcceptOnlyFromAmong([.. PruningNames.DecorrelationVariants]);
    }

    public Option<string?> Variant { get; }
    public Option<double?> Target { get; }
    public Option<string?> FilterRanking { get; }
    public Option<int?> MaskInterval { get; }
    public Option<double?> RampEnd { get; }
    public Option<double> Decorrelation { get; }
    public Option<string?> DecorrelationVariant { get; }

    public void AddTo(Command command)
    {
        foreach (var o in new Option[] { Variant, Target, FilterRanking, MaskInterval, RampEnd, Decorrelation, DecorrelationVariant }) command.Add(o);
    }

    /// <summary>Whether any dynamic pruning option (not the regulariser) was given.</summary>
    public bool AnyGiven(ParseResult r) =>
        r.GetValue(Variant) is not null || r.GetValue(Target) is not null || r.GetValue(FilterRanking) is not null || r.GetValue(MaskInterval) is not null || r.GetValue(RampEnd) is not null;

    /// <summary>The dynamic options (target: <paramref name="defaultTarget"/> when not given), validated (CMP0709).</summary>
    public DynamicPruningOptions Read(ParseResult r, double defaultTarget)
    {
        var options = new DynamicPruningOptions
        {
            Variant = PruningNames.DynamicVariant(r.GetValue(Variant)) ?? DynamicPruningVariant.Unstructured,
            Target = r.GetValue(Target) ?? defaultTarget,
            MaskInterval = r.GetValue(MaskInterval) ?? 16,
            FilterRanking = PruningNames.FilterRanking(r.GetValue(FilterRanking)) ?? Engine.Pruning.Dynamic.FilterRanking.Normalized,
            RampEnd = r.GetValue(RampEnd) ?? 0.75,
        };
        options.Validate();
        return options;
    }

    /// <summary><paramref name="training"/> with the regulariser's weight and variant.</summary>
    public TrainingOptions WithDecorrelation(ParseResult r, TrainingOptions training)
    {
        if (r.GetValue(DecorrelationVariant) is not null && r.GetValue(Decorrelation) == 0)
            throw new CompressException(DiagnosticCode.InvalidOption, "--decorrelation-variant needs --decorrelation ALPHA above 0.",
                hint: "Add --decorrelation 0.7, or drop --decorrelation-variant.");
        return training with
        {
            Decorrelation = r.GetValue(Decorrelation),
            DecorrelationVariant = PruningNames.DecorrelationVariant(r.GetValue(DecorrelationVariant)) ?? Engine.Training.DecorrelationVariant.Pearson,
        };
    }
}

using System.Globalization;
using Compress.Engine.Pipeline;

namespace Compress.Cli;

/// <summary>Human-readable summaries printed on stdout when <c>--json</c> is not given.</summary>
internal static class Summaries
{
    /// <summary>Dynamic pruning: the final sparsity, the updates, and a line per epoch.</summary>
    /// <summary>
    /// The build step's one result line: rate, ONNX accuracy against unpruned, size before and after (file and gzip),
    /// speedup and MACs ratio, where the artifact and the HTML report are.
    /// </summary>
    public static string BuildResultLine(Engine.Spec.BuildReport report)
    {
        var s = report.Structure;
        string size = s is null
            ? string.Create(CultureInfo.InvariantCulture, $"{report.FileBytes:N0} bytes")
            : string.Create(CultureInfo.InvariantCulture,
                $"{s.BytesBefore:N0} -> {s.BytesAfter:N0} bytes (gzip {s.GzipBytesBefore:N0} -> {s.GzipBytesAfter:N0}), nonzero parameters {s.NonzerosBefore:N0} -> {s.NonzerosAfter:N0}, {s.Speedup:F2}x faster, {s.MacsRatio:F2}x fewer MACs");
        return string.Create(CultureInfo.InvariantCulture,
            $"{report.Name}: rate {report.Rate.Value:F4} ({report.Rate.Source}), ONNX accuracy {report.Accuracy.Onnx:F2}% (unpruned {report.Accuracy.Unpruned:F2}%), {size}; wrote {report.Onnx} and {report.Name}.report.html");
    }

    public static void WriteDynamic(TextWriter o, Engine.Pruning.Dynamic.DynamicPruningReport d)
    {
        var c = CultureInfo.InvariantCulture;
        string regulariser = d.Decorrelation > 0 ? string.Create(c, $", decorrelation {d.Decorrelation} ({d.DecorrelationVariant})") : "";
        o.WriteLine(string.Create(c,
            $"dynamic pruning          {d.Variant}: {d.Masked:N0} of {d.Units:N0} {d.Unit} masked ({100 * d.Sparsity:F2}%, target {100 * d.Target:F2}%); {d.Updates.Count} mask updates, {d.Revived:N0} {d.Unit} revived{regulariser}"));
        foreach (var e in d.Epochs)
        {
            string accuracy = e.Accuracy is double a ? string.Create(c, $"test accuracy {a:F2}%, ") : "";
            o.WriteLine(string.Create(c, $"  epoch {e.Epoch,-4}             {accuracy}{100 * e.Sparsity:F2}% masked, mean filter |r| {e.MeanAbsoluteCorrelation:F4}"));
        }
    }

    public static void WritePrune(TextWriter o, PruneResult r)
    {
        var c = CultureInfo.InvariantCulture;
        var a = r.Analysis;
        o.WriteLine(string.Create(c, $"model                    {r.Model}, {r.Parameters:N0} parameters"));
        o.WriteLine(string.Create(c, $"knee                     rate {a.Knee.Rate:F2} (cosine {a.Knee.Cosine:F4})"));
        o.WriteLine(string.Create(c, $"kurtosis of kurtoses     {a.KurtosisOfKurtoses:F4} -> modifier {a.Modifier:F4}{(a.Clamped ? " (clamped)" : "")}"));
        o.WriteLine(string.Create(c, $"prune rate               {r.Rate:F4} ({r.RateSource}); {r.PrunedCount:N0} weights removed, sparsity {100 * r.Sparsity:F2}%"));
        o.WriteLine(string.Create(c, $"accuracy before pruning  {r.AccuracyBefore:F2}%"));
        if (r.Dynamic is null) o.WriteLine(string.Create(c, $"accuracy after pruning   {r.AccuracyAfterPrune:F2}%"));
        o.WriteLine(string.Create(c, $"accuracy after fine-tune {r.AccuracyAfterFinetune:F2}% ({r.AccuracyAfterFinetune - r.AccuracyBefore:+0.00;-0.00} points vs unpruned)"));
        if (r.Dynamic is { } dynamic) WriteDynamic(o, dynamic);
        if (r.ChannelGroups is { } groups)
        {
            int pruned = groups.Count(g => g.ChannelsAfter < g.ChannelsBefore), excluded = groups.Count(g => !g.Group.IsPrunable);
            o.WriteLine(string.Create(c, $"channel groups           {groups.Count}: {pruned} pruned, {excluded} excluded; parameters {r.ParametersBefore:N0} -> {r.Parameters:N0}"));
            foreach (var reason in groups.Where(g => !g.Group.IsPrunable).GroupBy(g => g.Group.ExcludedReason!, StringComparer.Ordinal))
                o.WriteLine(string.Create(c, $"  excluded x{reason.Count(),-3}          {reason.Key}"));
            foreach (var noted in groups.Where(g => g.Note is not null))
                o.WriteLine(string.Create(c, $"  group {noted.Group.Id,-4}            {noted.Note}"));
        }
        if (r.Comparison is { } k2)
        {
            string threads = k2.Threads == 0 ? "ONNX Runtime's threads" : string.Create(c, $"{k2.Threads} thread(s)");
            if (k2.MacsBefore is long mb && k2.MacsAfter is long ma)
                o.WriteLine(string.Create(c, $"MACs per image           {mb:N0} -> {ma:N0} ({k2.MacsRatio:F2}x fewer)"));
            o.WriteLine(string.Create(c, $"parameters (ONNX)        {k2.ParametersBefore:N0} -> {k2.ParametersAfter:N0}"));
            o.WriteLine(string.Create(c, $"latency (ONNX Runtime)   p50 {k2.LatencyBefore.P50:F3} -> {k2.LatencyAfter.P50:F3} ms ({k2.Speedup:F2}x), batch 1, {threads}, {k2.Runs} alternating runs each"));
        }
        if (r.Output is not null) o.WriteLine($"pruned weights           {r.Output}");
        if (r.Export is { } e)
        {
            o.WriteLine(string.Create(c, $"ONNX artifact            {e.Output} ({e.FileBytes:N0} bytes, {e.Macs:N0} MACs/image, parity {e.MaxRelativeDifference:G2})"));
            if (r.AccuracyOnnx is double onnx)
                o.WriteLine(string.Create(c, $"accuracy of the ONNX     {onnx:F2}% (ONNX Runtime)"));
            if (e.Compaction is { } k)
                o.WriteLine(string.Create(c, $"compaction               {k.RemovedChannels} channels removed; parameters {k.ParametersBefore:N0} -> {k.ParametersAfter:N0}, MACs {k.MacsBefore:N0} -> {k.MacsAfter:N0}, bytes {k.BytesBefore:N0} -> {k.BytesAfter:N0}"));
        }
    }
}

using System.CommandLine;
using System.Globalization;
using Compress.Engine.Pipeline;

namespace Compress.Cli.Commands;

/// <summary><c>compress analyze</c>: cosine curve, knee, kurtosis of kurtoses, safe rate.</summary>
internal static class AnalyzeCommand
{
    public static Command Create(CommonOptions common, CliContext context)
    {
        var strict = new Option<bool>("--strict") { Description = "Zero-variance tensors are an error instead of a warning." };
        var plot = new Option<string?>("--plot") { Description = "Write a PNG plot of the cosine curve with knee, utopia point and safe rate." };
        var command = new Command("analyze", "Compute the cosine-similarity curve, its knee, the kurtosis of kurtoses and the safe prune rate.");
        common.AddModel(command);
        command.Add(common.Weights);
        common.AddRun(command);
        command.Add(strict);
        command.Add(plot);
        command.Add(common.Json);
        command.SetAction(r =>
        {
            var analysis = AnalyzeJob.Run(new AnalyzeJob.Options
            {
                Model = common.ModelOptions(r),
                Weights = common.WeightsFor(r),
                Run = common.RunOptions(r),
                Strict = r.GetValue(strict),
                PlotPath = r.GetValue(plot),
            }, context.Sink);
            if (r.GetValue(common.Json))
            {
                context.WriteJson(analysis);
                return 0;
            }
            var o = context.Out;
            var c = CultureInfo.InvariantCulture;
            o.WriteLine(string.Create(c, $"parameters           {analysis.ParameterCount:N0}"));
            o.WriteLine("rate    cosine");
            for (int i = 0; i < analysis.Rates.Length; i++)
                o.WriteLine(string.Create(c, $"{analysis.Rates[i],4:F2}    {analysis.Cosine[i]:F6}{(i == analysis.Knee.Index ? "  <- knee" : "")}"));
            o.WriteLine(string.Create(c, $"knee                 index {analysis.Knee.Index}, rate {analysis.Knee.Rate:F4}, cosine {analysis.Knee.Cosine:F6}, distance {analysis.Knee.Distance:F6}"));
            o.WriteLine(string.Create(c, $"kurtosis of kurtoses {analysis.KurtosisOfKurtoses:F6}"));
            o.WriteLine(string.Create(c, $"modifier             {analysis.Modifier:F6} (raw {analysis.RawModifier:F6})"));
            o.WriteLine(string.Create(c, $"safe rate            {analysis.SafeRate:F6} (raw {analysis.RawSafeRate:F6}{(analysis.Clamped ? ", clamped to the knee" : "")})"));
            if (analysis.ExcludedTensors.Count > 0)
                o.WriteLine($"excluded tensors     {string.Join(", ", analysis.ExcludedTensors)}");
            return 0;
        });
        return command;
    }
}

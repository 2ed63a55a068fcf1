using System.CommandLine;
using System.Globalization;
using System.Text;
using Compress.Engine.Diagnostics;
using Compress.Engine.Pruning.FineGrained;

namespace Compress.Cli.Commands;

/// <summary><c>compress sensitivity</c>: per-layer sensitivity scan (accuracy with one layer pruned at a time).</summary>
internal static class SensitivityCommand
{
    public static Command Create(CommonOptions common, CliContext context)
    {
        var sparsities = new Option<string?>("--sparsities")
        {
            Description = "Comma-separated sparsities each layer is pruned to (default 0.4,0.5,0.6,0.7,0.8,0.9).",
        };
        var layers = new Option<string?>("--layers")
        {
            Description = "Comma-separated weight names to scan, as named_parameters() lists them (default: every conv and linear weight).",
        };
        var batch = new Option<int>("--batch-size") { Description = "Evaluation batch size.", DefaultValueFactory = _ => 256 };
        var maxBatches = new Option<int?>("--max-batches")
        {
            Description = "Evaluate on only the first N batches of the test split (faster, noisier).",
        };
        var output = new Option<string?>("--output", "-o") { Description = "Write the scan as JSON to this file." };
        var plot = new Option<string?>("--plot") { Description = "Write a PNG of accuracy against sparsity, one line per layer." };
        var command = new Command("sensitivity",
            "Prune each conv/linear weight alone (fine-grained, by magnitude) at several sparsities and measure test accuracy.");
        common.AddModel(command);
        command.Add(common.Weights);
        common.AddData(command);
        command.Add(sparsities);
        command.Add(layers);
        command.Add(batch);
        command.Add(maxBatches);
        command.Add(output);
        command.Add(plot);
        common.AddRun(command);
        command.Add(common.Json);
        command.SetAction(r =>
        {
            var scan = new SensitivityOptions
            {
                Sparsities = r.GetValue(sparsities) is string s ? ParseSparsities(s) : SensitivityOptions.DefaultSparsities,
                Layers = r.GetValue(layers) is string l ? Split(l) : null,
                BatchSize = r.GetValue(batch),
                MaxBatches = r.GetValue(maxBatches),
            };
            // The JSON and the plot replace the earlier pair together, or not at all.
            var result = Compress.Engine.Reporting.OutputTransaction.Run([r.GetValue(output), r.GetValue(plot)], context.Sink,
                () => SensitivityJob.Run(new SensitivityJob.Options
                {
                    Model = common.ModelOptions(r),
                    Weights = common.WeightsFor(r),
                    Data = common.DataOptions(r),
                    Run = common.RunOptions(r),
                    Scan = scan,
                    OutputPath = r.GetValue(output),
                    PlotPath = r.GetValue(plot),
                }, context.Sink, context.Cancellation));
            if (r.GetValue(common.Json)) context.WriteJson(result);
            else WriteTable(context.Out, result);
            return 0;
        });
        return command;
    }

    /// <summary>Comma-separated numbers; CMP0751 names the first that is not a number in [0, 1].</summary>
    internal static double[] ParseSparsities(string text)
    {
        var values = new List<double>();
        foreach (var part in Split(text))
        {
            if (!double.TryParse(part, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) || !(value >= 0 && value <= 1))
                throw new CompressException(DiagnosticCode.InvalidLayerSparsity, $"--sparsities: '{part}' is not a number in [0, 1].",
                    hint: "Give e.g. --sparsities 0.4,0.5,0.6,0.7,0.8,0.9.");
            values.Add(value);
        }
        return [.. values];
    }

    private static string[] Split(string text) =>
        text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static void WriteTable(TextWriter o, SensitivityResult result)
    {
        var c = CultureInfo.InvariantCulture;
        o.WriteLine(string.Create(c, $"dense accuracy {result.DenseAccuracy:F2}% on {result.Images} images; {result.Layers.Count} layers scanned in {result.Seconds:F1} s"));
        int width = Math.Max(5, result.Layers.Count == 0 ? 0 : result.Layers.Max(l => l.Name.Length));
        var header = new StringBuilder();
        header.Append("layer".PadRight(width)).Append("  ").Append("parameters".PadLeft(11));
        foreach (double s in result.Sparsities) header.Append(string.Create(c, $"{s,8:0.###}"));
        o.WriteLine(header.ToString());
        foreach (var layer in result.Layers)
        {
            var line = new StringBuilder();
            line.Append(layer.Name.PadRight(width)).Append("  ").Append(layer.ParameterCount.ToString("N0", c).PadLeft(11));
            foreach (var p in layer.Points) line.Append(string.Create(c, $"{p.Accuracy,8:F2}"));
            o.WriteLine(line.ToString());
        }
    }
}

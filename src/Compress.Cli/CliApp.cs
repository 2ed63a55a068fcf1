using System.CommandLine;
using Compress.Cli.Commands;
using Compress.Engine.Diagnostics;

namespace Compress.Cli;

/// <summary>
/// The <c>compress</c> command line. Results go to <c>stdout</c>; progress, warnings and errors to <c>stderr</c> in the
/// canonical <c>origin: error CMPxxxx: text</c> form. Exit codes: 0 success, 1 error, 2 usage error, 130 cancelled.
/// </summary>
public static class CliApp
{
    /// <summary>Exit code for a coded engine error.</summary>
    public const int ErrorExitCode = 1;
    /// <summary>Exit code for an unknown option or bad usage (CMP0001).</summary>
    public const int UsageExitCode = 2;
    /// <summary>Exit code when the run was cancelled (Ctrl+C).</summary>
    public const int CancelledExitCode = 130;

    /// <summary>Parses and runs <paramref name="args"/>.</summary>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken = default)
    {
        var sink = new TextWriterSink(stderr);
        var context = new CliContext(stdout, sink, cancellationToken);
        var common = new CommonOptions();
        var root = new RootCommand("Compress: prune, fine-tune and verify neural networks (Mason-Williams & Dahlqvist cosine-knee method).")
        {
            AnalyzeCommand.Create(common, context),
            TrainCommand.Create(common, context),
            PruneCommand.Create(common, context),
            EvaluateCommand.Create(common, context),
            ExportCommand.Create(common, context),
            RunCommand.Create(common, context),
            ModelsCommand.Create(context),
            DataCommand.Create(context),
            BenchCommand.Create(common, context),
            ProfileCommand.Create(common, context),
            SensitivityCommand.Create(common, context),
            CompareCommand.Create(common, context),
            ReportCommand.Create(context),
        };

        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var error in parse.Errors)
                sink.Report(Diagnostic.Error(DiagnosticCode.InvalidOption, error.Message, hint: "See 'compress --help'."));
            return UsageExitCode;
        }

        try
        {
            return parse.Invoke(new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false });
        }
        catch (CompressException e)
        {
            stderr.WriteLine(e.Format());
            return ErrorExitCode;
        }
        catch (OperationCanceledException)
        {
            sink.Report(Diagnostic.Error(DiagnosticCode.Cancelled, "Cancelled; no output was written or replaced."));
            return CancelledExitCode;
        }
    }
}

using System.CommandLine;
using Compress.Cli.Commands;
using Compress.Engine.Diagnostics;

namespace Compress.Cli;

/// <summary>
/// The <c>compress</c> command line. Results go to <c>stdout</c>; progress, warnings and errors to <c>stderr</c> in the
/// canonical <c>origin: error CMPxxxx: text</c> form. Exit codes: 0 success, 1 error, 2 usage error (CMP0001), 130
/// cancelled (Ctrl+C), 143 stopped by SIGTERM.
/// </summary>
public static class CliApp
{
    /// <summary>Exit code for a coded engine error.</summary>
    public const int ErrorExitCode = 1;
    /// <summary>Exit code for an unknown option or bad usage (CMP0001).</summary>
    public const int UsageExitCode = 2;
    /// <summary>Exit code when the run was cancelled (Ctrl+C).</summary>
    public const int CancelledExitCode = 130;
    /// <summary>Exit code when the run was stopped by SIGTERM (128 + 15).</summary>
    public const int TerminatedExitCode = 143;

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
            // A bad option or value is a usage error, whichever command found it.
            return e.Code == DiagnosticCode.InvalidOption ? UsageExitCode : ErrorExitCode;
        }
        catch (OperationCanceledException)
        {
            sink.Report(Diagnostic.Error(DiagnosticCode.Cancelled, "Cancelled; no output was written or replaced."));
            return CancelledExitCode;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Never a stack trace for users: one coded line (the trace with COMPRESS_DEBUG=1, for a bug report).
            bool debug = Environment.GetEnvironmentVariable("COMPRESS_DEBUG") == "1";
            sink.Report(Diagnostic.Error(DiagnosticCode.InternalError,
                $"Internal error ({e.GetType().Name}): {FirstLine(e.Message)}" + (debug ? Environment.NewLine + e : ""),
                hint: "This is a bug in compress: please report it with the command line and, if you can, the input (COMPRESS_DEBUG=1 prints the stack trace)."));
            return ErrorExitCode;
        }
    }

    private static string FirstLine(string text)
    {
        int i = text.IndexOfAny(['\r', '\n']);
        return i < 0 ? text : text[..i];
    }
}

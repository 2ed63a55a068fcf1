using System.Runtime.InteropServices;
using Compress.Cli;

NativeLibraryDirectory.UseFromEnvironment();

using var cancellation = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    // First Ctrl+C: stop between batches and leave previous outputs untouched; a second one kills the process.
    if (cancellation.IsCancellationRequested) return;
    e.Cancel = true;
    cancellation.Cancel();
};
// SIGTERM (CI systems, docker stop, MSBuild's kill of a cancelled build's tree after its grace period) stops the same way
// as Ctrl+C: between batches, previous outputs untouched, temp files removed; exit code 143 (128 + 15), as a shell reports it.
bool terminated = false;
PosixSignalRegistration? sigterm = null;
try
{
    sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
    {
        if (cancellation.IsCancellationRequested) return; // a second SIGTERM: the default, immediate end
        context.Cancel = true;
        terminated = true;
        cancellation.Cancel();
    });
}
catch (PlatformNotSupportedException)
{
    // A platform without SIGTERM: Ctrl+C still cancels.
}
int code = CliApp.Run(args, Console.Out, Console.Error, cancellation.Token);
sigterm?.Dispose();
return terminated && code == CliApp.CancelledExitCode ? CliApp.TerminatedExitCode : code;

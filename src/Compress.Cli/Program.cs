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
return CliApp.Run(args, Console.Out, Console.Error, cancellation.Token);

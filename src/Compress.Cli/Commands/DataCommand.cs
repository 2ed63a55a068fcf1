using System.CommandLine;
using Compress.Engine.Data;

namespace Compress.Cli.Commands;

/// <summary><c>compress data synthetic</c>: write the built-in synthetic dataset as CIFAR-10 binary files.</summary>
internal static class DataCommand
{
    public static Command Create(CliContext context)
    {
        var output = new Option<string>("--output", "-o") { Description = "Folder for data_batch_*.bin, test_batch.bin, batches.meta.txt.", Required = true };
        var seed = new Option<int>("--seed") { Description = "Generator seed.", DefaultValueFactory = _ => 0 };
        var train = new Option<int>("--train") { Description = "Training images.", DefaultValueFactory = _ => new SyntheticDataOptions().TrainCount };
        var test = new Option<int>("--test") { Description = "Test images.", DefaultValueFactory = _ => new SyntheticDataOptions().TestCount };
        var synthetic = new Command("synthetic", "Write the built-in synthetic dataset (10 procedurally drawn classes) in CIFAR-10 binary format.")
        {
            output, seed, train, test,
        };
        synthetic.SetAction(r =>
        {
            string dir = r.GetValue(output)!;
            // The batch files replace an earlier set together, or not at all.
            Compress.Engine.Reporting.OutputTransaction.Run([Path.Combine(dir, "data_batch_1.bin")], context.Sink, () =>
            {
                SyntheticImages.WriteCifarBinary(new SyntheticDataOptions
                {
                    Seed = r.GetValue(seed),
                    TrainCount = r.GetValue(train),
                    TestCount = r.GetValue(test),
                }, dir);
                return 0;
            });
            context.Out.WriteLine($"synthetic dataset written to {Path.GetFullPath(dir)}");
            return 0;
        });
        return new Command("data", "Dataset utilities.") { synthetic };
    }
}

using Compress.Engine.Data;
using Compress.Engine.Diagnostics;
using Compress.Engine.Models;
using Compress.Engine.Models.Onnx;
using Compress.Engine.Pruning.Channels;
using Compress.Engine.Pruning.FineGrained;
using Compress.Engine.Spec;
using SharpFuzz;

// One parser per process, fed by AFL++: a coded error (CompressException) is an accepted outcome; any other exception
// escapes to SharpFuzz, which reports it to AFL++ as a crash with the input that caused it.
string[] targets = ["safetensors", "pytorch", "spec", "sparsity", "channel-plan", "onnx", "mnist-images", "cifar"];
if (args.Length != 1 || !targets.Contains(args[0]))
{
    Console.Error.WriteLine($"usage: Compress.Fuzz <{string.Join("|", targets)}>  (run under afl-fuzz; see run-afl.sh)");
    return 2;
}
string target = args[0];
string folder = Path.Combine(Path.GetTempPath(), "compress-afl-" + Environment.ProcessId);
Directory.CreateDirectory(folder);
Fuzzer.OutOfProcess.Run(stream =>
{
    using var memory = new MemoryStream();
    stream.CopyTo(memory);
    byte[] bytes = memory.ToArray();
    try
    {
        Parse(target, folder, bytes);
    }
    catch (CompressException)
    {
        // The contract: malformed input is a coded error.
    }
});
return 0;

static void Parse(string target, string folder, byte[] bytes)
{
    switch (target)
    {
        case "safetensors":
            Checkpoint.ReadStateDict(Write(folder, "w.safetensors", bytes));
            break;
        case "pytorch":
            Checkpoint.ReadStateDict(Write(folder, "w.pt", bytes));
            break;
        case "spec":
            BuildSpecParser.Parse(Path.Combine(folder, "net.json"), bytes);
            break;
        case "sparsity":
            SparsityFile.Parse(Path.Combine(folder, "s.json"), bytes);
            break;
        case "channel-plan":
            ChannelPlanFile.Read(Write(folder, "plan.json", bytes));
            break;
        case "onnx":
            OnnxImporter.Read(bytes, Path.Combine(folder, "m.onnx"));
            break;
        case "mnist-images":
            MnistIdxReader.ReadImages(Write(folder, "train-images-idx3-ubyte", bytes));
            break;
        case "cifar":
            Write(folder, "data_batch_1.bin", bytes);
            if (!File.Exists(Path.Combine(folder, "test_batch.bin"))) File.WriteAllBytes(Path.Combine(folder, "test_batch.bin"), new byte[3073]);
            CifarBinaryReader.Read(folder);
            break;
    }
}

static string Write(string folder, string name, byte[] bytes)
{
    string path = Path.Combine(folder, name);
    File.WriteAllBytes(path, bytes);
    return path;
}

using Compress.Bench;
using Compress.Engine.Runtime;

// Benchmarks, run in Release: dotnet run -c Release --project bench/Compress.Bench -- <name> [options]
string name = args.Length > 0 ? args[0].ToLowerInvariant() : "";
string[] rest = args.Length > 1 ? args[1..] : [];
TorchRuntime.EnsureLoaded();
switch (name)
{
    case "analysis":
        return AnalysisBenchmark.Run(rest);
    case "training":
        TrainingBenchmark.Run();
        return 0;
    case "onnx":
        OnnxLatencyBenchmark.Run();
        return 0;
    case "build-overhead":
        return BuildOverheadBenchmark.Run();
    case "channels":
        return ChannelPruningBenchmark.Run(rest);
    case "graph-training":
        return GraphTrainingBenchmark.Run(rest);
    case "onnx-import":
        return OnnxImportBenchmark.Run(rest);
    case OnnxImportBenchmark.ChildName:
        return OnnxImportBenchmark.RunChild(rest);
    case OnnxImportBenchmark.PhasesChildName:
        return OnnxImportBenchmark.RunPhasesChild(rest);
    case "dynamic-pruning":
        return DynamicPruningExperiment.Run(rest);
    case "identical-latency":
        return IdenticalGraphsLatency.Run(rest);
    case "training-speed":
        return TrainingSpeedBenchmark.Run(rest);
    case "imported-training":
        return ImportedTrainingBenchmark.Run(rest);
    case "fma-peak":
        return FmaPeakBenchmark.Run(rest);
    case "channels-last-check":
        return ChannelsLastCheck.Run(rest);
    case "onnx-training":
        return OnnxTrainingBenchmark.Run(rest);
    case "all":
        int code = AnalysisBenchmark.Run(rest);
        TrainingBenchmark.Run();
        OnnxLatencyBenchmark.Run();
        return code;
    default:
        Console.Error.WriteLine("usage: Compress.Bench <analysis|training|training-speed|imported-training|fma-peak|channels-last-check|onnx|build-overhead|channels|graph-training|onnx-import|onnx-training|dynamic-pruning|identical-latency|all> [--ratio R] [--rounds N] [--runs N] [--baseline-runs N] [--kthvalue-runs N] [--seed N] [--width W] [--steps N]");
        return 2;
}

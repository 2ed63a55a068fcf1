using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Security.Cryptography;
using Compress.Engine.Export;
using Compress.Engine.Models;
using Compress.Engine.Models.Onnx;
using Microsoft.ML.OnnxRuntime;
using Onnx;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Compress.Bench;

/// <summary>
/// Import and verification of a large ONNX file (targets: at most 5 s and a peak of at most 3x the weights' bytes):
/// a torchvision-shaped ResNet-50 (<see cref="ResNet50Graph"/>, 3x224x224, 1000 classes, 25.6M parameters) with seeded
/// random weights and BatchNorm running statistics, exported with BatchNorm kept, then
/// <see cref="OnnxImporter.Load"/> (parse, convert, create the model, verify against ONNX Runtime) timed in a fresh
/// child process: its first import is the cold one, the following ones warm. Memory is the kernel's resident
/// high-water mark (<c>VmHWM</c>, reset before each import through <c>/proc/self/clear_refs</c>) minus the resident
/// size just before the import, after a full GC and <c>malloc_trim</c>; the child's baseline has libtorch and ONNX
/// Runtime loaded and nothing else. A second fresh child times the phases of one import separately (cold, then warm). Options:
/// <c>--runs</c> (3 imports: 1 cold + 2 warm), <c>--seed</c> (0).
/// </summary>
internal static class OnnxImportBenchmark
{
    /// <summary>The benchmark name of the child that times whole imports (not listed in the usage line).</summary>
    public const string ChildName = "onnx-import-child";

    /// <summary>The benchmark name of the child that times the phases of an import (not listed in the usage line).</summary>
    public const string PhasesChildName = "onnx-import-phases-child";

    private const double SecondsTarget = 5;
    private const double MemoryTarget = 3;
    private const double MB = 1024 * 1024;

    public static int Run(string[] args)
    {
        int runs = Math.Max(1, BenchOptions.Integer(args, "--runs", 3));
        int seed = BenchOptions.Integer(args, "--seed", 0);
        var c = CultureInfo.InvariantCulture;
        string folder = Directory.CreateTempSubdirectory("compress-bench-").FullName;
        string path = Path.Combine(folder, "resnet50.onnx");
        try
        {
            long weightBytes;
            long parameters;
            double exportSeconds;
            using (var model = CreateResNet50(seed))
            {
                weightBytes = model.state_dict().Values.Where(t => t.dtype == ScalarType.Float32).Sum(t => t.numel() * 4);
                parameters = model.ParameterCount();
                long start = Stopwatch.GetTimestamp();
                OnnxExporter.Write(OnnxExporter.Export(model, new OnnxExportOptions { FoldBatchNorm = false }), path);
                exportSeconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
            }
            long fileBytes = new FileInfo(path).Length;
            Console.WriteLine(string.Create(c,
                $"ResNet-50 (torchvision layout, BatchNorm kept): {parameters:N0} parameters, {weightBytes:N0} bytes of float32 state, file {fileBytes:N0} bytes, exported in {exportSeconds:F2} s."));
            Console.WriteLine("Importing in a fresh child process (baseline: libtorch and ONNX Runtime loaded, after GC + malloc_trim)...");

            var runLines = RunChild(ChildName, path, runs);
            var phaseLines = RunChild(PhasesChildName, path, runs);
            var rows = runLines.Select(l => l.Split(' ')).Select(p => (Seconds: Double(p[1]), Before: long.Parse(p[2], c), Peak: long.Parse(p[3], c), Reset: p[4] == "1")).ToList();
            if (rows.Count == 0) throw new InvalidOperationException("The child process reported no import.");
            var cold = rows[0];
            var warm = rows.Skip(1).ToList();
            double warmSeconds = warm.Count > 0 ? Timing.Median(warm.Select(r => r.Seconds)) : double.NaN;
            double coldPeakMB = (cold.Peak - cold.Before) / MB;
            double warmPeakMB = warm.Count > 0 ? Timing.Median(warm.Select(r => (r.Peak - r.Before) / MB)) : double.NaN;
            double weightMB = weightBytes / MB;

            Console.WriteLine();
            Console.WriteLine(string.Create(c, $"## ONNX import + verification: ResNet-50 3x224x224, BatchNorm kept, {rows.Count} imports in one fresh process (1 cold, {warm.Count} warm), libtorch threads {get_num_threads()}"));
            Console.WriteLine();
            Console.WriteLine("| file (MB) | weights (bytes) | import+verify cold (s) | warm median (s) | RSS before (MB) | peak over baseline, cold (MB) | cold peak / weights | peak over baseline, warm median (MB) | warm peak / weights |");
            Console.WriteLine("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
            Console.WriteLine(string.Create(c,
                $"| {fileBytes / MB:F1} | {weightBytes:N0} | {cold.Seconds:F2} | {warmSeconds:F2} | {cold.Before / MB:F0} | {coldPeakMB:F0} | {coldPeakMB / weightMB:F2}x | {warmPeakMB:F0} | {warmPeakMB / weightMB:F2}x |"));
            Console.WriteLine();
            Console.WriteLine(string.Create(c, $"All imports (s): {string.Join(", ", rows.Select(r => r.Seconds.ToString("F2", c)))}; peak reset through clear_refs: {(rows.All(r => r.Reset) ? "yes" : "NO (peaks after the first are since process start)")}"));
            bool timeMet = cold.Seconds <= SecondsTarget;
            bool warmTimeMet = warm.Count == 0 || warmSeconds <= SecondsTarget;
            bool memoryMet = coldPeakMB <= MemoryTarget * weightMB;
            Console.WriteLine(string.Create(c, $"Target import+verify <= {SecondsTarget} s: cold {(timeMet ? "met" : "NOT met")}, warm {(warmTimeMet ? "met" : "NOT met")}."));
            Console.WriteLine(string.Create(c, $"Target peak <= {MemoryTarget}x the weights ({MemoryTarget * weightMB:F0} MB): {(memoryMet ? "met" : "NOT met")} ({coldPeakMB / weightMB:F2}x cold)."));
            Console.WriteLine();
            Console.WriteLine("Phases of an import, done one by one as Load does them, in a second fresh process: pass 1 cold, pass 2 warm");
            Console.WriteLine("(RSS after the phase over the pass's baseline, everything kept alive as in Load):");
            Console.WriteLine();
            Console.WriteLine("| phase | cold s | cold RSS over baseline (MB) | warm s | warm RSS over baseline (MB) |");
            Console.WriteLine("|---|---:|---:|---:|---:|");
            var phases = phaseLines.Select(l => l.Split(' ', 5)).ToList();
            foreach (var p in phases.Where(p => p[1] == "0"))
            {
                var w = phases.FirstOrDefault(q => q[1] == "1" && q[4] == p[4]);
                Console.WriteLine(string.Create(c,
                    $"| {p[4]} | {Double(p[2]):F3} | {long.Parse(p[3], c) / MB:F0} | {(w is null ? "" : Double(w[2]).ToString("F3", c))} | {(w is null ? "" : (long.Parse(w[3], c) / MB).ToString("F0", c))} |"));
            }
            Console.WriteLine();
            return timeMet && memoryMet ? 0 : 1;
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>The run child: imports <c>--file</c> <c>--runs</c> times; prints <c>@run seconds rss-before peak
    /// reset</c> lines for the parent.</summary>
    public static int RunChild(string[] args)
    {
        string path = BenchOptions.Text(args, "--file") ?? throw new ArgumentException("--file is required.", nameof(args));
        int runs = BenchOptions.Integer(args, "--runs", 3);
        var c = CultureInfo.InvariantCulture;
        _ = OrtEnv.Instance(); // ONNX Runtime's native library is part of the baseline, like libtorch

        for (int run = 0; run < runs; run++)
        {
            ProcessMemory.Settle();
            bool reset = ProcessMemory.ResetPeak();
            long before = ProcessMemory.Resident();
            long start = Stopwatch.GetTimestamp();
            var model = OnnxImporter.Load(path);
            double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
            long peak = ProcessMemory.PeakResident();
            model.Dispose();
            Console.WriteLine(string.Create(c, $"@run {seconds:R} {before} {peak} {(reset ? 1 : 0)}"));
        }
        return 0;
    }

    /// <summary>The phase child: does what <see cref="OnnxImporter.Load"/> does, phase by phase, twice (the first pass in
    /// this fresh process is cold); prints <c>@phase pass seconds rss-growth name</c> lines.</summary>
    public static int RunPhasesChild(string[] args)
    {
        string path = BenchOptions.Text(args, "--file") ?? throw new ArgumentException("--file is required.", nameof(args));
        _ = OrtEnv.Instance();
        for (int pass = 0; pass < 2; pass++) Phases(path, pass);
        return 0;
    }

    private static void Phases(string path, int pass)
    {
        var c = CultureInfo.InvariantCulture;
        ProcessMemory.Settle();
        ProcessMemory.ResetPeak();
        long baseline = ProcessMemory.Resident();
        void Phase(string name, long since) => Console.WriteLine(string.Create(c,
            $"@phase {pass} {Stopwatch.GetElapsedTime(since).TotalSeconds:R} {ProcessMemory.Resident() - baseline} {name}"));
        long t = Stopwatch.GetTimestamp();
        byte[] bytes = File.ReadAllBytes(path);
        Phase("read the file", t);
        t = Stopwatch.GetTimestamp();
        var proto = ModelProto.Parser.ParseFrom(bytes);
        Phase("protobuf parse (ModelProto.Parser.ParseFrom)", t);
        t = Stopwatch.GetTimestamp();
        _ = SHA256.HashData(bytes);
        Phase("SHA-256 of the file (part of the conversion, timed alone here)", t);
        t = Stopwatch.GetTimestamp();
        var imported = OnnxImporter.Read(proto, path, bytes);
        Phase("conversion to graph + float[] state (OnnxImporter.Read, incl. SHA-256)", t);
        t = Stopwatch.GetTimestamp();
        using var model = OnnxImporter.Create(imported);
        Phase("model creation + weight copy (OnnxImporter.Create)", t);

        // Verification, split as OnnxImporter.Verify does it: TorchSharp on 2 seeded images, then ONNX Runtime.
        var shape = model.InputShape;
        long[] inputShape = [OnnxImporter.VerificationBatch, shape.Channels, shape.Height, shape.Width];
        float[] input;
        t = Stopwatch.GetTimestamp();
        using (NewDisposeScope())
        {
            var x = rand(inputShape, generator: new Generator(0)).mul(2).sub(1);
            input = x.data<float>().ToArray();
            model.eval();
            using var noGrad = no_grad();
            _ = model.call(x).contiguous().data<float>().ToArray();
            model.train();
        }
        Phase("verify: TorchSharp forward, 2 images, eval", t);
        t = Stopwatch.GetTimestamp();
        using (var options = new SessionOptions())
        using (var session = new InferenceSession(bytes, options))
        {
            Phase("verify: ONNX Runtime session creation (default options)", t);
            t = Stopwatch.GetTimestamp();
            using var inputValue = OrtValue.CreateTensorValueFromMemory(input, inputShape);
            using var runOptions = new RunOptions();
            var origin = model.Origin!;
            using var outputs = session.Run(runOptions, [origin.InputName], [inputValue], [origin.OutputName]);
            _ = outputs[0].GetTensorDataAsSpan<float>().ToArray();
            Phase("verify: ONNX Runtime run, 2 images", t);
        }
        t = Stopwatch.GetTimestamp();
        var parity = OnnxImporter.Verify(model, bytes);
        Phase(string.Create(c, $"whole OnnxImporter.Verify once more (relative difference {parity.MaxRelativeDifference:G3})"), t);
        Console.WriteLine(string.Create(c, $"@phase {pass} 0 {ProcessMemory.PeakResident() - baseline} peak of the pass"));
        GC.KeepAlive(bytes);
        GC.KeepAlive(proto);
        GC.KeepAlive(imported);
    }

    private static ClassifierModel CreateResNet50(int seed)
    {
        manual_seed(seed);
        var model = new ClassifierModel(new ModelOptions { Architecture = "resnet50", Classes = 1000 }, new InputShape(3, 224, 224),
            ResNet50Graph.Build(1000), ModelInitialization.KaimingNormalFanOut);
        // Non-trivial running statistics, so that verification with BatchNorm kept checks them too.
        using var noGrad = no_grad();
        foreach (var (_, module) in model.named_modules())
        {
            if (module is not BatchNorm2d bn) continue;
            using var scope = NewDisposeScope();
            bn.running_mean!.normal_(0, 0.1);
            bn.running_var!.uniform_(0.5, 1.5);
        }
        return model;
    }

    /// <summary>Starts this program again as child <paramref name="name"/> and returns its <c>@run</c> or <c>@phase</c>
    /// lines (other output is passed through).</summary>
    private static List<string> RunChild(string name, string path, int runs)
    {
        string self = Environment.ProcessPath ?? throw new InvalidOperationException("The process path is unknown.");
        var start = new ProcessStartInfo(self) { RedirectStandardOutput = true, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(self).Equals("dotnet", StringComparison.OrdinalIgnoreCase))
            start.ArgumentList.Add(Assembly.GetEntryAssembly()!.Location);
        foreach (string a in new[] { name, "--file", path, "--runs", runs.ToString(CultureInfo.InvariantCulture) })
            start.ArgumentList.Add(a);
        using var child = Process.Start(start) ?? throw new InvalidOperationException("Could not start the child process.");
        var lines = new List<string>();
        while (child.StandardOutput.ReadLine() is { } line)
        {
            if (line.StartsWith('@')) lines.Add(line);
            else Console.WriteLine(line);
        }
        child.WaitForExit();
        if (child.ExitCode != 0) throw new InvalidOperationException($"The import child process failed (exit code {child.ExitCode}).");
        return lines;
    }

    private static double Double(string text) => double.Parse(text, CultureInfo.InvariantCulture);
}

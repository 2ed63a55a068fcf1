using System.Diagnostics;
using System.Globalization;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Compress.Bench;

/// <summary>
/// The machine's measured float32 FMA peak: independent fused multiply-add chains in registers (no memory traffic) on
/// 1 and on every core, with the widest vectors the CPU has (AVX-512 when present, else AVX2 + FMA). 2 FLOP per lane per
/// FMA. The ceiling issue 16's "share of peak" is measured against.
/// </summary>
internal static class FmaPeakBenchmark
{
    public static int Run(string[] args)
    {
        long iterations = BenchOptions.Integer(args, "--millions", 200) * 1_000_000L;
        bool avx512 = Avx512F.IsSupported;
        if (!avx512 && !Fma.IsSupported)
        {
            Console.WriteLine("No FMA instructions on this CPU.");
            return 1;
        }
        int lanes = avx512 ? 16 : 8;
        var c = CultureInfo.InvariantCulture;
        Console.WriteLine(string.Create(c, $"## FP32 FMA peak ({(avx512 ? "AVX-512" : "AVX2 + FMA")}, {lanes} lanes, 12 independent chains, {iterations / 1_000_000:N0}M iterations per thread)"));
        Console.WriteLine();
        Console.WriteLine("| threads | GFLOP/s (best of 3) |");
        Console.WriteLine("|---:|---:|");
        foreach (int threads in new[] { 1, Environment.ProcessorCount }.Distinct())
        {
            double best = 0;
            for (int attempt = 0; attempt < 3; attempt++)
            {
                long start = Stopwatch.GetTimestamp();
                Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, _ => Sink(avx512 ? Chains512(iterations) : Chains256(iterations)));
                double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
                best = Math.Max(best, threads * iterations * 12.0 * lanes * 2 / seconds / 1e9);
            }
            Console.WriteLine(string.Create(c, $"| {threads} | {best:F1} |"));
        }
        return 0;
    }

    private static float _sink;

    private static void Sink(float value) => _sink += value;

    private static float Chains256(long iterations)
    {
        var a = Vector256.Create(0.999f);
        var b = Vector256.Create(1e-7f);
        Vector256<float> r0 = Vector256.Create(1f), r1 = r0, r2 = r0, r3 = r0, r4 = r0, r5 = r0, r6 = r0, r7 = r0, r8 = r0, r9 = r0, r10 = r0, r11 = r0;
        for (long i = 0; i < iterations; i++)
        {
            r0 = Fma.MultiplyAdd(r0, a, b); r1 = Fma.MultiplyAdd(r1, a, b); r2 = Fma.MultiplyAdd(r2, a, b); r3 = Fma.MultiplyAdd(r3, a, b);
            r4 = Fma.MultiplyAdd(r4, a, b); r5 = Fma.MultiplyAdd(r5, a, b); r6 = Fma.MultiplyAdd(r6, a, b); r7 = Fma.MultiplyAdd(r7, a, b);
            r8 = Fma.MultiplyAdd(r8, a, b); r9 = Fma.MultiplyAdd(r9, a, b); r10 = Fma.MultiplyAdd(r10, a, b); r11 = Fma.MultiplyAdd(r11, a, b);
        }
        var sum = r0 + r1 + r2 + r3 + r4 + r5 + r6 + r7 + r8 + r9 + r10 + r11;
        return Vector256.Sum(sum);
    }

    private static float Chains512(long iterations)
    {
        var a = Vector512.Create(0.999f);
        var b = Vector512.Create(1e-7f);
        Vector512<float> r0 = Vector512.Create(1f), r1 = r0, r2 = r0, r3 = r0, r4 = r0, r5 = r0, r6 = r0, r7 = r0, r8 = r0, r9 = r0, r10 = r0, r11 = r0;
        for (long i = 0; i < iterations; i++)
        {
            r0 = Avx512F.FusedMultiplyAdd(r0, a, b); r1 = Avx512F.FusedMultiplyAdd(r1, a, b); r2 = Avx512F.FusedMultiplyAdd(r2, a, b); r3 = Avx512F.FusedMultiplyAdd(r3, a, b);
            r4 = Avx512F.FusedMultiplyAdd(r4, a, b); r5 = Avx512F.FusedMultiplyAdd(r5, a, b); r6 = Avx512F.FusedMultiplyAdd(r6, a, b); r7 = Avx512F.FusedMultiplyAdd(r7, a, b);
            r8 = Avx512F.FusedMultiplyAdd(r8, a, b); r9 = Avx512F.FusedMultiplyAdd(r9, a, b); r10 = Avx512F.FusedMultiplyAdd(r10, a, b); r11 = Avx512F.FusedMultiplyAdd(r11, a, b);
        }
        var sum = r0 + r1 + r2 + r3 + r4 + r5 + r6 + r7 + r8 + r9 + r10 + r11;
        return Vector512.Sum(sum);
    }
}

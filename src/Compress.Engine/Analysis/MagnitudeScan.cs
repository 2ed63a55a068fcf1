using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Compress.Engine.Diagnostics;
using TorchSharp;
using static TorchSharp.torch;

namespace Compress.Engine.Analysis;

/// <summary>
/// The CPU fast path: exact order statistics of |w| over the whole parameter vector without sorting it.
/// </summary>
/// <remarks>
/// <para>Pass 1 reads every float32 once and builds a radix histogram of the top 16 bits of its |w| bit pattern
/// (8 exponent bits and 8 mantissa bits; positive floats order like their bit patterns), with per-bucket counts and
/// float64 sums of squares, and per-tensor sums for the means. A value in the top 256 buckets (exponent all ones) is
/// NaN or infinity.</para>
/// <para>The prefix counts then say, for every k, which bucket holds the k-th smallest |w| (the "boundary" bucket).
/// Pass 2 copies the bit patterns of the boundary buckets' elements (a small fraction of N) into one buffer, and
/// optionally accumulates the per-tensor central moments for the kurtosis. Each boundary bucket is then resolved
/// exactly with two more radix levels over its own elements (8 and 7 bits; the last level's bins each hold a single
/// value), so no sort happens anywhere. Equal |w| have equal squares, so ties never change a sum of squares.</para>
/// <para>Both passes split the flat vector into a fixed number of contiguous ranges (run in parallel), each with private accumulators merged
/// afterwards; the data are read in place through a span over the tensors' CPU memory (no copy).</para>
/// </remarks>
internal sealed unsafe class MagnitudeScan : IDisposable
{
    internal const int BucketBits = 16;
    internal const int BucketShift = 31 - BucketBits;
    internal const int BucketCount = 1 << BucketBits;
    private const uint AbsMask = 0x7FFF_FFFF;
    private const int FirstNonFiniteBucket = (int)(0x7F80_0000u >> BucketShift);
    private const int Level2Shift = 7;
    private const int Level2Bins = 1 << (BucketShift - Level2Shift);
    private const int Level3Bins = 1 << Level2Shift;
    private const int Pass2Block = 4096;
    private const int FixedChunks = 8;

    private readonly TrainableParameters _parameters;
    private readonly List<Tensor> _owned = [];
    private readonly nint[] _data;
    private readonly long[] _chunkStart;
    private int[][] _chunkCounts = [];
    private double[][] _chunkTensorSums = [];

    private MagnitudeScan(TrainableParameters parameters)
    {
        _parameters = parameters;
        _data = new nint[parameters.TensorCount];
        long n = parameters.Count;
        // A fixed number of contiguous ranges, not one per core: the float64 sums are merged range by range, so a fixed
        // split makes the results bit-identical on every machine, whatever its core count. More ranges when one would
        // overflow the int bucket counters.
        long chunks = n < 1 << 18 ? 1 : FixedChunks;
        chunks = Math.Max(chunks, (n + (1L << 30) - 1) >> 30);
        _chunkStart = new long[chunks + 1];
        for (long c = 0; c <= chunks; c++) _chunkStart[c] = n * c / chunks;
    }

    /// <summary>N.</summary>
    public long Count => _parameters.Count;

    /// <summary>Elements per bucket (merged over chunks).</summary>
    public long[] Counts { get; } = new long[BucketCount];

    /// <summary>Sum of w² per bucket, when pass 1 was asked for it.</summary>
    public double[]? SumSquares { get; private set; }

    /// <summary>Mean of each tensor (float64).</summary>
    public double[] TensorMeans { get; private set; } = [];

    /// <summary>Runs pass 1. Throws CMP0107 naming the tensors that hold NaN or infinity.</summary>
    public static MagnitudeScan Run(TrainableParameters parameters, bool sumSquares)
    {
        var scan = new MagnitudeScan(parameters);
        try
        {
            using (torch.no_grad())
            {
                for (int t = 0; t < parameters.TensorCount; t++) scan._data[t] = scan.Pin(parameters.Tensors[t]);
            }
            scan.Pass1(sumSquares);
            return scan;
        }
        catch
        {
            scan.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        foreach (var t in _owned) t.Dispose();
        _owned.Clear();
    }

    private nint Pin(Tensor parameter)
    {
        // The module's own memory when it already is contiguous CPU float32; an exact float32 CPU copy otherwise
        // (float16 and bfloat16 widen exactly; the caller rejects float64).
        Tensor t = parameter;
        if (t.device_type != DeviceType.CPU || t.dtype != ScalarType.Float32 || !t.is_contiguous())
        {
            using var detached = parameter.detach();
            using var converted = detached.to(ScalarType.Float32, torch.CPU);
            t = converted.contiguous();
            _owned.Add(t);
        }
        if (t.numel() == 0) return 0;
        // The address of element 0, through a one-element view: Tensor.bytes is a span over the tensor's own memory
        // (no copy) but refuses tensors of 2 GiB or more; the memory behind the view is the whole contiguous tensor.
        using var flat = t.reshape(-1);
        using var head = flat.narrow(0, 0, 1);
        Span<byte> bytes = head.bytes;
        return (nint)Unsafe.AsPointer(ref MemoryMarshal.GetReference(bytes));
    }

    private int ChunkCount => _chunkStart.Length - 1;

    /// <summary>Calls <paramref name="body"/> for each tensor segment of chunk <paramref name="c"/>.</summary>
    private void ForEachSegment(int c, Action<int, long, long> body)
    {
        long lo = _chunkStart[c], hi = _chunkStart[c + 1];
        if (lo >= hi) return;
        var offsets = _parameters.Offsets;
        for (int t = _parameters.TensorOf(lo); t < _parameters.TensorCount && offsets[t] < hi; t++)
        {
            long s = Math.Max(lo, offsets[t]), e = Math.Min(hi, offsets[t + 1]);
            if (e > s) body(t, s - offsets[t], e - s);
        }
    }

    private void Pass1(bool sumSquares)
    {
        int chunks = ChunkCount, tensors = _parameters.TensorCount;
        _chunkCounts = new int[chunks][];
        _chunkTensorSums = new double[chunks][];
        var chunkSquares = sumSquares ? new double[chunks][] : null;
        Parallel.For(0, chunks, c =>
        {
            var counts = new int[BucketCount];
            var squares = sumSquares ? new double[BucketCount] : null;
            var sums = new double[tensors];
            ForEachSegment(c, (t, start, length) =>
            {
                float* p = (float*)_data[t] + start;
                fixed (int* cnt = counts)
                fixed (double* sq = squares)
                {
                    sums[t] += squares is null ? HistogramCounts(p, length, cnt) : HistogramCountsAndSquares(p, length, cnt, sq);
                }
            });
            _chunkCounts[c] = counts;
            _chunkTensorSums[c] = sums;
            if (chunkSquares is not null) chunkSquares[c] = squares!;
        });

        for (int c = 0; c < chunks; c++)
        {
            var counts = _chunkCounts[c];
            for (int b = 0; b < BucketCount; b++) Counts[b] += counts[b];
        }
        for (int b = FirstNonFiniteBucket; b < BucketCount; b++)
        {
            if (Counts[b] != 0) ThrowNonFinite();
        }
        if (chunkSquares is not null)
        {
            var merged = new double[BucketCount];
            for (int c = 0; c < chunks; c++)
            {
                var sq = chunkSquares[c];
                for (int b = 0; b < BucketCount; b++) merged[b] += sq[b];
            }
            SumSquares = merged;
        }
        TensorMeans = new double[tensors];
        for (int t = 0; t < tensors; t++)
        {
            double s = 0;
            for (int c = 0; c < chunks; c++) s += _chunkTensorSums[c][t];
            long n = _parameters.CountOf(t);
            TensorMeans[t] = n == 0 ? 0 : s / n;
        }
    }

    private static double HistogramCountsAndSquares(float* p, long n, int* cnt, double* sq)
    {
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        long i = 0;
        for (; i + 4 <= n; i += 4)
        {
            float x0 = p[i], x1 = p[i + 1], x2 = p[i + 2], x3 = p[i + 3];
            s0 += x0; s1 += x1; s2 += x2; s3 += x3;
            int k0 = (int)((BitConverter.SingleToUInt32Bits(x0) & AbsMask) >> BucketShift);
            int k1 = (int)((BitConverter.SingleToUInt32Bits(x1) & AbsMask) >> BucketShift);
            int k2 = (int)((BitConverter.SingleToUInt32Bits(x2) & AbsMask) >> BucketShift);
            int k3 = (int)((BitConverter.SingleToUInt32Bits(x3) & AbsMask) >> BucketShift);
            cnt[k0]++; sq[k0] += (double)x0 * x0;
            cnt[k1]++; sq[k1] += (double)x1 * x1;
            cnt[k2]++; sq[k2] += (double)x2 * x2;
            cnt[k3]++; sq[k3] += (double)x3 * x3;
        }
        for (; i < n; i++)
        {
            float x = p[i];
            s0 += x;
            int k = (int)((BitConverter.SingleToUInt32Bits(x) & AbsMask) >> BucketShift);
            cnt[k]++; sq[k] += (double)x * x;
        }
        return (s0 + s1) + (s2 + s3);
    }

    private static double HistogramCounts(float* p, long n, int* cnt)
    {
        double s0 = 0, s1 = 0;
        long i = 0;
        for (; i + 2 <= n; i += 2)
        {
            float x0 = p[i], x1 = p[i + 1];
            s0 += x0; s1 += x1;
            cnt[(int)((BitConverter.SingleToUInt32Bits(x0) & AbsMask) >> BucketShift)]++;
            cnt[(int)((BitConverter.SingleToUInt32Bits(x1) & AbsMask) >> BucketShift)]++;
        }
        for (; i < n; i++)
        {
            float x = p[i];
            s0 += x;
            cnt[(int)((BitConverter.SingleToUInt32Bits(x) & AbsMask) >> BucketShift)]++;
        }
        return s0 + s1;
    }

    private void ThrowNonFinite()
    {
        var bad = new List<string>();
        for (int t = 0; t < _parameters.TensorCount; t++)
        {
            float* p = (float*)_data[t];
            long n = _parameters.CountOf(t);
            for (long i = 0; i < n; i++)
            {
                if (!float.IsFinite(p[i]))
                {
                    bad.Add($"{_parameters.Names[t]} (element {i}: {p[i].ToString(System.Globalization.CultureInfo.InvariantCulture)})");
                    break;
                }
            }
        }
        throw NonFinite(bad);
    }

    internal static CompressException NonFinite(IReadOnlyList<string> tensors) =>
        new(DiagnosticCode.NonFiniteWeights,
            $"The weights contain NaN or infinity: {string.Join(", ", tensors)}.",
            hint: "Retrain or fix the checkpoint; a diverged training run leaves NaN weights.");

    /// <summary>Locates the k-th smallest |w| (1 &lt;= k &lt;= N): its bucket and its rank r (1-based) inside it.</summary>
    public static (int Bucket, long Rank) Locate(long k, long[] prefix)
    {
        // prefix[b] = elements in buckets below b; the answer is the smallest b with prefix[b + 1] >= k.
        int lo = 0, hi = BucketCount - 1;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (prefix[mid + 1] >= k) hi = mid; else lo = mid + 1;
        }
        return (lo, k - prefix[lo]);
    }

    /// <summary>prefix[b] = number of elements in buckets below b (length BucketCount + 1).</summary>
    public long[] PrefixCounts()
    {
        var prefix = new long[BucketCount + 1];
        for (int b = 0; b < BucketCount; b++) prefix[b + 1] = prefix[b] + Counts[b];
        return prefix;
    }

    /// <summary>
    /// Pass 2: the bit patterns (|w|) of every element in <paramref name="buckets"/> (distinct, ascending), grouped by
    /// bucket, and, when <paramref name="centralMoments"/> is set, Σ(x - mean)² and Σ(x - mean)⁴ per tensor.
    /// </summary>
    public BoundaryElements Collect(int[] buckets, bool centralMoments)
    {
        if (buckets.Length > 255) throw new ArgumentOutOfRangeException(nameof(buckets), "At most 255 boundary buckets.");
        int chunks = ChunkCount, tensors = _parameters.TensorCount;
        var map = new byte[BucketCount];
        var start = new long[buckets.Length + 1];
        for (int j = 0; j < buckets.Length; j++)
        {
            map[buckets[j]] = (byte)(j + 1);
            start[j + 1] = start[j] + Counts[buckets[j]];
        }
        if (start[^1] > Array.MaxLength) throw new NotSupportedException("Too many elements share the boundary buckets.");
        var bits = GC.AllocateUninitializedArray<uint>((int)start[^1]);
        // Write positions of each chunk inside each bucket's group, so chunks never share a slot.
        var positions = new long[chunks][];
        for (int c = 0; c < chunks; c++) positions[c] = new long[buckets.Length + 1];
        for (int j = 0; j < buckets.Length; j++)
        {
            long pos = start[j];
            for (int c = 0; c < chunks; c++)
            {
                positions[c][j + 1] = pos;
                pos += _chunkCounts[c][buckets[j]];
            }
        }
        var m2 = new double[chunks][];
        var m4 = new double[chunks][];
        var means = TensorMeans;
        Parallel.For(0, chunks, c =>
        {
            var pos = positions[c];
            var s2 = new double[tensors];
            var s4 = new double[tensors];
            var scratch = new uint[Pass2Block + 1];
            ForEachSegment(c, (t, first, length) =>
            {
                float* p = (float*)_data[t] + first;
                fixed (byte* mp = map)
                fixed (long* pp = pos)
                fixed (uint* dst = bits)
                fixed (uint* sp = scratch)
                {
                    // Blocks small enough to stay in L1 between the two loops: the data are read from memory once.
                    for (long at = 0; at < length; at += Pass2Block)
                    {
                        int count = (int)Math.Min(Pass2Block, length - at);
                        if (centralMoments)
                        {
                            var (a, b) = Moments(p + at, count, means[t]);
                            s2[t] += a;
                            s4[t] += b;
                        }
                        if (buckets.Length > 0) Gather(p + at, count, mp, pp, dst, sp);
                    }
                }
            });
            m2[c] = s2;
            m4[c] = s4;
        });

        var sum2 = new double[tensors];
        var sum4 = new double[tensors];
        for (int c = 0; c < chunks; c++)
        {
            for (int t = 0; t < tensors; t++)
            {
                sum2[t] += m2[c][t];
                sum4[t] += m4[c][t];
            }
        }
        return new BoundaryElements(buckets, start, bits, sum2, sum4);
    }

    /// <summary>
    /// Copies the elements of the boundary buckets (map code != 0) of one block to their bucket groups. Branch-free
    /// compaction into <paramref name="scratch"/> first: about one element in ten is wanted, at random, which a branch
    /// would mispredict; the compaction keeps its write index in a register.
    /// </summary>
    private static void Gather(float* p, int n, byte* map, long* pos, uint* dst, uint* scratch)
    {
        int found = 0;
        for (int i = 0; i < n; i++)
        {
            uint b = BitConverter.SingleToUInt32Bits(p[i]) & AbsMask;
            scratch[found] = b;
            found += (map[b >> BucketShift] + 255) >> 8;
        }
        for (int i = 0; i < found; i++)
        {
            uint b = scratch[i];
            dst[pos[map[b >> BucketShift]]++] = b;
        }
    }

    private static (double M2, double M4) Moments(float* p, long n, double mean)
    {
        var vm = new Vector<double>(mean);
        Vector<double> a2 = Vector<double>.Zero, a4 = Vector<double>.Zero, b2 = Vector<double>.Zero, b4 = Vector<double>.Zero;
        int w = Vector<float>.Count;
        long i = 0;
        for (; i + w <= n; i += w)
        {
            var v = Vector.Load(p + i);
            Vector.Widen(v, out Vector<double> lo, out Vector<double> hi);
            var d = lo - vm;
            var d2 = d * d;
            a2 += d2;
            a4 += d2 * d2;
            d = hi - vm;
            d2 = d * d;
            b2 += d2;
            b4 += d2 * d2;
        }
        double s2 = Vector.Sum(a2 + b2), s4 = Vector.Sum(a4 + b4);
        for (; i < n; i++)
        {
            double d = p[i] - mean, d2 = d * d;
            s2 += d2;
            s4 += d2 * d2;
        }
        return (s2, s4);
    }

    /// <summary>The elements of the boundary buckets (pass 2) and the per-tensor central moment sums.</summary>
    internal sealed class BoundaryElements(int[] buckets, long[] start, uint[] bits, double[] sum2, double[] sum4)
    {
        /// <summary>Σ(x - mean)² per tensor (only when requested).</summary>
        public double[] CentralSum2 { get; } = sum2;

        /// <summary>Σ(x - mean)⁴ per tensor (only when requested).</summary>
        public double[] CentralSum4 { get; } = sum4;

        private ReadOnlySpan<uint> ElementsOf(int bucket)
        {
            int j = Array.BinarySearch(buckets, bucket);
            if (j < 0) throw new InvalidOperationException($"Bucket {bucket} was not collected.");
            return bits.AsSpan((int)start[j], (int)(start[j + 1] - start[j]));
        }

        /// <summary>Sum of w² over the <paramref name="m"/> largest |w| of <paramref name="bucket"/>.</summary>
        public double LargestSumSquares(int bucket, long m)
        {
            var e = ElementsOf(bucket);
            if (m <= 0) return 0;
            // Level 2: the next 8 bits, counts and sums of squares.
            Span<long> count = stackalloc long[Level2Bins];
            Span<double> squares = stackalloc double[Level2Bins];
            count.Clear();
            squares.Clear();
            foreach (uint b in e)
            {
                int s = (int)(b >> Level2Shift) & (Level2Bins - 1);
                count[s]++;
                double x = BitConverter.UInt32BitsToSingle(b);
                squares[s] += x * x;
            }
            double acc = 0;
            long need = m;
            int bin = Level2Bins - 1;
            for (; bin >= 0 && need > 0; bin--)
            {
                if (count[bin] <= need)
                {
                    acc += squares[bin];
                    need -= count[bin];
                }
                else
                {
                    break;
                }
            }
            if (need == 0) return acc;
            // Level 3: the last 7 bits; each bin is one exact value.
            Span<long> exact = stackalloc long[Level3Bins];
            exact.Clear();
            foreach (uint b in e)
            {
                if (((int)(b >> Level2Shift) & (Level2Bins - 1)) == bin) exact[(int)(b & (Level3Bins - 1))]++;
            }
            uint high = (uint)bucket << BucketShift | (uint)bin << Level2Shift;
            for (int l = Level3Bins - 1; l >= 0 && need > 0; l--)
            {
                long take = Math.Min(exact[l], need);
                if (take == 0) continue;
                double x = BitConverter.UInt32BitsToSingle(high | (uint)l);
                acc += take * (x * x);
                need -= take;
            }
            return acc;
        }

        /// <summary>The r-th smallest |w| bit pattern of <paramref name="bucket"/> (1-based) and how many are smaller.</summary>
        public (uint Bits, long Below) Select(int bucket, long r)
        {
            var e = ElementsOf(bucket);
            Span<long> count = stackalloc long[Level2Bins];
            count.Clear();
            foreach (uint b in e) count[(int)(b >> Level2Shift) & (Level2Bins - 1)]++;
            long below = 0;
            int bin = 0;
            for (; bin < Level2Bins; bin++)
            {
                if (below + count[bin] >= r) break;
                below += count[bin];
            }
            Span<long> exact = stackalloc long[Level3Bins];
            exact.Clear();
            foreach (uint b in e)
            {
                if (((int)(b >> Level2Shift) & (Level2Bins - 1)) == bin) exact[(int)(b & (Level3Bins - 1))]++;
            }
            int l = 0;
            for (; l < Level3Bins; l++)
            {
                if (below + exact[l] >= r) break;
                below += exact[l];
            }
            return ((uint)bucket << BucketShift | (uint)bin << Level2Shift | (uint)l, below);
        }
    }
}

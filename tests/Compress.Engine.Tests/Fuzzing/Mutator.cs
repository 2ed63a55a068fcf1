using System.Buffers.Binary;
using Compress.Engine.Data;

namespace Compress.Engine.Tests.Fuzzing;

/// <summary>
/// A deterministic mutation fuzzer's mutator: from a seed and a valid input it makes one malformed input by stacking
/// one to four mutations (bit flips, interesting bytes and integers, truncation, deletion, insertion, duplication,
/// broken UTF-8, extreme numbers in text). The same seed always gives the same bytes, so any case is reproducible from
/// its number alone. Half the positions fall in the first or last 256 bytes, where headers, lengths and zip directories
/// live.
/// </summary>
internal static class Mutator
{
    private static readonly byte[] InterestingBytes = [0x00, 0x01, 0x7F, 0x80, 0xFF, (byte)'"', (byte)'{', (byte)'}', (byte)'[', (byte)']', (byte)',', (byte)':', (byte)'\\', (byte)'-', (byte)'9', (byte)'\n'];

    private static readonly long[] InterestingIntegers =
        [0, 1, -1, 255, 256, 65535, 65536, int.MaxValue, int.MinValue, uint.MaxValue, 1L << 32, long.MaxValue, long.MinValue, 1L << 40, 0x7FFFFFC7];

    private static readonly byte[][] BrokenUtf8 =
    [
        [0xFF], [0xC3], [0xC0, 0x80], [0xED, 0xA0, 0x80], [0xF8, 0x88, 0x80, 0x80, 0x80], [0xE2, 0x82], [0xF4, 0x90, 0x80, 0x80], [0x80],
    ];

    private static readonly string[] ExtremeNumbers =
        ["1e308", "-1", "99999999999999999999999", "1e-400", "-0", "NaN", "2147483648", "-9223372036854775809", "0.0000001", "1e6"];

    /// <summary>The mutated copy of <paramref name="input"/> for case <paramref name="seed"/>, and what was done (for reports).</summary>
    public static (byte[] Bytes, string What) Mutate(byte[] input, ulong seed)
    {
        var random = new SplitMix64(seed);
        var bytes = new List<byte>(input);
        var what = new List<string>();
        int count = random.Chance(0.5) ? 1 : random.Next(2, 5);
        for (int m = 0; m < count; m++)
        {
            int kind = random.Next(0, 10);
            int at = Position(ref random, bytes.Count);
            switch (kind)
            {
                case 0 when bytes.Count > 0:
                    bytes[at] ^= (byte)(1 << random.Next(0, 8));
                    what.Add($"flip@{at}");
                    break;
                case 1 when bytes.Count > 0:
                    bytes[at] = InterestingBytes[random.Next(0, InterestingBytes.Length)];
                    what.Add($"byte@{at}");
                    break;
                case 2 when bytes.Count >= 8:
                {
                    at = Math.Min(at, bytes.Count - 8);
                    int width = new[] { 2, 4, 8 }[random.Next(0, 3)];
                    long value = InterestingIntegers[random.Next(0, InterestingIntegers.Length)];
                    Span<byte> buffer = stackalloc byte[8];
                    if (random.Chance(0.5)) BinaryPrimitives.WriteInt64LittleEndian(buffer, value);
                    else BinaryPrimitives.WriteInt64BigEndian(buffer, value << ((8 - width) * 8));
                    for (int i = 0; i < width; i++) bytes[at + i] = buffer[i];
                    what.Add($"int{width * 8}@{at}={value}");
                    break;
                }
                case 3:
                    bytes.RemoveRange(at, bytes.Count - at);
                    what.Add($"truncate@{at}");
                    break;
                case 4 when bytes.Count > 0:
                {
                    int length = Math.Min(1 + random.Next(0, 64), bytes.Count - at);
                    bytes.RemoveRange(at, length);
                    what.Add($"delete@{at}+{length}");
                    break;
                }
                case 5:
                {
                    int length = 1 + random.Next(0, 64);
                    var inserted = new byte[length];
                    for (int i = 0; i < length; i++) inserted[i] = (byte)random.Next(0, 256);
                    bytes.InsertRange(at, inserted);
                    what.Add($"insert@{at}+{length}");
                    break;
                }
                case 6 when bytes.Count > 0:
                {
                    int from = random.Next(0, bytes.Count);
                    int length = Math.Min(1 + random.Next(0, 256), bytes.Count - from);
                    bytes.InsertRange(at, bytes.GetRange(from, length));
                    what.Add($"duplicate@{from}+{length}->{at}");
                    break;
                }
                case 7:
                    bytes.InsertRange(at, BrokenUtf8[random.Next(0, BrokenUtf8.Length)]);
                    what.Add($"utf8@{at}");
                    break;
                case 8:
                {
                    // Replace the number (or the text) at a digit with an extreme one: sizes, rates, counts.
                    int digit = bytes.FindIndex(at, b => b is >= (byte)'0' and <= (byte)'9');
                    if (digit < 0) digit = at;
                    int end = digit;
                    while (end < bytes.Count && bytes[end] is >= (byte)'0' and <= (byte)'9' or (byte)'.' or (byte)'e' or (byte)'-') end++;
                    string number = ExtremeNumbers[random.Next(0, ExtremeNumbers.Length)];
                    bytes.RemoveRange(digit, end - digit);
                    bytes.InsertRange(digit, System.Text.Encoding.ASCII.GetBytes(number));
                    what.Add($"number@{digit}={number}");
                    break;
                }
                default:
                    if (bytes.Count > 1)
                    {
                        // Swap two bytes: reorders tokens and fields.
                        int other = random.Next(0, bytes.Count);
                        (bytes[at], bytes[other]) = (bytes[other], bytes[at]);
                        what.Add($"swap@{at},{other}");
                    }
                    break;
            }
            if (bytes.Count == 0) break;
        }
        return ([.. bytes], string.Join(" ", what));
    }

    /// <summary>A position in [0, count]: half uniform, half within the first or last 256 bytes.</summary>
    private static int Position(ref SplitMix64 random, int count)
    {
        if (count == 0) return 0;
        if (random.Chance(0.5)) return random.Next(0, count);
        int window = Math.Min(256, count);
        return random.Chance(0.5) ? random.Next(0, window) : count - 1 - random.Next(0, window);
    }
}

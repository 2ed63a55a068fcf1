namespace Compress.Engine.Data;

/// <summary>
/// A tiny seeded random generator (SplitMix64) whose sequence is fixed by its algorithm, not by the runtime, so
/// synthetic data stays byte-identical across .NET versions and machines.
/// </summary>
internal struct SplitMix64(ulong seed)
{
    private ulong _state = seed;

    /// <summary>Mixes several values into one well-spread seed.</summary>
    public static ulong Mix(params ReadOnlySpan<ulong> parts)
    {
        ulong h = 0x9E3779B97F4A7C15UL;
        foreach (ulong p in parts) h = Finalise(h ^ Finalise(p + 0x632BE59BD9B4E019UL));
        return h;
    }

    public ulong NextULong()
    {
        _state += 0x9E3779B97F4A7C15UL;
        return Finalise(_state);
    }

    /// <summary>Uniform in [0, 1).</summary>
    public double NextDouble() => (NextULong() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform in [<paramref name="min"/>, <paramref name="max"/>).</summary>
    public float Uniform(float min, float max) => min + ((max - min) * (float)NextDouble());

    /// <summary>Uniform integer in [<paramref name="min"/>, <paramref name="maxExclusive"/>).</summary>
    public int Next(int min, int maxExclusive) =>
        min + (int)((NextULong() >> 32) * (ulong)(maxExclusive - min) >> 32);

    /// <summary>True with probability <paramref name="p"/>.</summary>
    public bool Chance(double p) => NextDouble() < p;

    /// <summary>Roughly standard normal (sum of four uniforms from one draw, scaled to unit variance); cheap enough per pixel.</summary>
    public float NextNormalish()
    {
        ulong r = NextULong();
        int sum = (int)(r & 0xFFFF) + (int)((r >> 16) & 0xFFFF) + (int)((r >> 32) & 0xFFFF) + (int)(r >> 48);
        // Each 16-bit part has mean 32767.5 and variance 65536^2/12; four of them: variance 65536^2/3.
        return (sum - (4 * 32767.5f)) * (1.7320508f / 65536f);
    }

    private static ulong Finalise(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}

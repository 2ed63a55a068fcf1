namespace Compress.Engine.Data;

/// <summary>
/// Draws the synthetic 32x32 RGB images. A class is a shape or texture (<see cref="ClassNames"/>); colour, background,
/// position, scale, rotation, clutter, occluders and noise are random and shared by all classes, so a network has to
/// learn form, not colour. A small fraction of images is drawn with low contrast or heavy noise, so the classes
/// overlap and test accuracy stays below 100%. Shapes are signed-distance functions with one-pixel anti-aliasing.
/// </summary>
internal static class SyntheticImageGenerator
{
    public const int Size = 32;
    public const int Channels = 3;
    public const int PixelBytes = Channels * Size * Size;

    public static IReadOnlyList<string> ClassNames { get; } =
    [
        "circle", "square", "triangle", "cross", "ring",
        "horizontal-stripes", "vertical-stripes", "checker", "diagonal-line", "blob-pair",
    ];

    private const int Plane = Size * Size;

    /// <summary>Balanced labels (each class <c>count / 10</c> or one more) in a seeded random order.</summary>
    public static byte[] Labels(int seed, int split, int count)
    {
        var labels = new byte[count];
        for (int i = 0; i < count; i++) labels[i] = (byte)(i % ClassNames.Count);
        var rng = new SplitMix64(SplitMix64.Mix((ulong)(uint)seed, (ulong)split, 0x4C4142454C53UL));
        for (int i = count - 1; i > 0; i--)
        {
            int j = rng.Next(0, i + 1);
            (labels[i], labels[j]) = (labels[j], labels[i]);
        }
        return labels;
    }

    /// <summary>Draws every image of a split (in parallel; each image has its own seed, so the bytes do not depend on scheduling).</summary>
    public static byte[] Render(int seed, int split, byte[] labels)
    {
        var pixels = new byte[labels.Length * PixelBytes];
        Parallel.For(0, labels.Length, () => new float[Channels * Plane], (i, _, canvas) =>
        {
            var rng = new SplitMix64(SplitMix64.Mix((ulong)(uint)seed, (ulong)split, (ulong)i));
            Draw(labels[i], ref rng, canvas);
            Quantise(canvas, pixels.AsSpan(i * PixelBytes, PixelBytes));
            return canvas;
        }, _ => { });
        return pixels;
    }

    /// <summary>Draws one image of class <paramref name="label"/> into <paramref name="canvas"/> (R, G, B planes, 0..255).</summary>
    internal static void Draw(int label, ref SplitMix64 rng, float[] canvas)
    {
        var background = Background(ref rng, canvas);

        int clutter = rng.Next(0, 4);
        for (int k = 0; k < clutter; k++) Clutter(ref rng, canvas);

        // A small distractor of another class, away from the main object: shapes appear in every class.
        if (rng.Chance(0.15))
        {
            int other = (label + rng.Next(1, ClassNames.Count)) % ClassNames.Count;
            float angle = rng.Uniform(0, MathF.Tau);
            float cx = 16 + (12 * MathF.Cos(angle)), cy = 16 + (12 * MathF.Sin(angle));
            var colour = RandomColour(ref rng);
            DrawObject(other, ref rng, canvas, cx, cy, rng.Uniform(2.2f, 3.6f), colour);
        }

        // The object that defines the class. Hard cases: low contrast against the background.
        float x = rng.Uniform(11, 21), y = rng.Uniform(11, 21);
        float r = rng.Uniform(6f, 10.5f);
        var fg = rng.Chance(0.06)
            ? NearColour(ref rng, background, rng.Uniform(8, 28))
            : ContrastingColour(ref rng, background, 70);
        DrawObject(label, ref rng, canvas, x, y, r, fg);

        // Occluder: a bar or block over part of the object.
        if (rng.Chance(0.3))
        {
            var colour = RandomColour(ref rng);
            float ox = x + rng.Uniform(-r, r), oy = y + rng.Uniform(-r, r);
            var box = new Box(ox, oy, rng.Uniform(1, 0.45f * r), rng.Uniform(1, 0.45f * r), rng.Uniform(0, MathF.PI));
            PaintSolid(canvas, box, ox, oy, 0.64f * r + 1, colour);
        }

        // Sensor noise; a few images get a lot.
        float sigma = rng.Chance(0.12) ? rng.Uniform(16, 32) : rng.Uniform(2, 12);
        for (int i = 0; i < canvas.Length; i++) canvas[i] += sigma * rng.NextNormalish();
    }

    private static void Quantise(float[] canvas, Span<byte> output)
    {
        for (int i = 0; i < output.Length; i++)
        {
            float v = canvas[i];
            output[i] = v <= 0 ? (byte)0 : v >= 255 ? (byte)255 : (byte)(int)(v + 0.5f);
        }
    }

    // ---------------------------------------------------------------- background and clutter

    private static Rgb Background(ref SplitMix64 rng, float[] canvas)
    {
        var c0 = RandomColour(ref rng);
        double style = rng.NextDouble();
        if (style < 0.4)
        {
            Fill(canvas, c0);
            return c0;
        }
        if (style < 0.75)
        {
            // Linear gradient from c0 to c1 across the image.
            var c1 = RandomColour(ref rng);
            float angle = rng.Uniform(0, MathF.Tau);
            float dx = MathF.Cos(angle) / Size, dy = MathF.Sin(angle) / Size;
            for (int py = 0; py < Size; py++)
            for (int px = 0; px < Size; px++)
            {
                float t = Math.Clamp(0.5f + ((px - 15.5f) * dx) + ((py - 15.5f) * dy), 0, 1);
                Set(canvas, px, py, Rgb.Lerp(c0, c1, t));
            }
            return Rgb.Lerp(c0, c1, 0.5f);
        }
        // Smooth blotches: a few low-frequency waves per channel.
        Fill(canvas, c0);
        for (int w = 0; w < 3; w++)
        {
            float angle = rng.Uniform(0, MathF.Tau);
            float freq = rng.Uniform(0.12f, 0.45f);
            float phase = rng.Uniform(0, MathF.Tau);
            var amplitude = new Rgb(rng.Uniform(-25, 25), rng.Uniform(-25, 25), rng.Uniform(-25, 25));
            float kx = freq * MathF.Cos(angle), ky = freq * MathF.Sin(angle);
            for (int py = 0; py < Size; py++)
            for (int px = 0; px < Size; px++)
            {
                float s = MathF.Sin((kx * px) + (ky * py) + phase);
                int i = (py * Size) + px;
                canvas[i] += amplitude.R * s;
                canvas[Plane + i] += amplitude.G * s;
                canvas[(2 * Plane) + i] += amplitude.B * s;
            }
        }
        return c0;
    }

    private static void Clutter(ref SplitMix64 rng, float[] canvas)
    {
        var colour = RandomColour(ref rng);
        float x = rng.Uniform(0, Size), y = rng.Uniform(0, Size);
        if (rng.Chance(0.5))
        {
            float r = rng.Uniform(0.7f, 1.6f);
            PaintSolid(canvas, new Disk(x, y, r), x, y, r + 1, colour);
        }
        else
        {
            float angle = rng.Uniform(0, MathF.Tau), half = rng.Uniform(1f, 2.5f);
            float ex = half * MathF.Cos(angle), ey = half * MathF.Sin(angle);
            PaintSolid(canvas, new Segment(x - ex, y - ey, x + ex, y + ey, rng.Uniform(0.4f, 0.75f)), x, y, half + 2,
                colour);
        }
    }

    // ---------------------------------------------------------------- the ten classes

    private static void DrawObject(int label, ref SplitMix64 rng, float[] canvas, float x, float y, float r, Rgb fg)
    {
        switch (label)
        {
            case 0: // circle
                PaintShaded(ref rng, canvas, new Disk(x, y, r), x, y, r, fg);
                break;
            case 1: // square, any rotation
            {
                float h = 0.85f * r;
                PaintShaded(ref rng, canvas, new Box(x, y, h, h, rng.Uniform(0, MathF.PI / 2)), x, y, 1.42f * h, fg);
                break;
            }
            case 2: // equilateral triangle, any rotation
            {
                float circumradius = 1.2f * r;
                PaintShaded(ref rng, canvas, new Triangle(x, y, circumradius, rng.Uniform(0, MathF.Tau)), x, y,
                    circumradius, fg);
                break;
            }
            case 3: // cross (plus or x)
            {
                float arm = r, half = MathF.Max(1.2f, rng.Uniform(0.24f, 0.36f) * r);
                PaintShaded(ref rng, canvas, new Cross(x, y, arm, half, rng.Uniform(0, MathF.PI / 2)), x, y,
                    1.42f * arm, fg);
                break;
            }
            case 4: // ring
                PaintShaded(ref rng, canvas, new Ring(x, y, r, rng.Uniform(0.9f, 1.9f)), x, y, r + 2, fg);
                break;
            case 5: // horizontal stripes
            case 6: // vertical stripes
            {
                float angle = (label == 5 ? 0 : MathF.PI / 2) + rng.Uniform(-0.26f, 0.26f);
                float period = rng.Uniform(3.2f, 6f);
                PaintPatch(ref rng, canvas, x, y, r, fg, new Pattern(angle, period, rng.Uniform(0, 1),
                    Checker: false));
                break;
            }
            case 7: // checkerboard
            {
                float angle = rng.Uniform(-0.26f, 0.26f);
                float period = 2 * rng.Uniform(2.2f, 4f);
                PaintPatch(ref rng, canvas, x, y, r, fg, new Pattern(angle, period, rng.Uniform(0, 1),
                    Checker: true));
                break;
            }
            case 8: // diagonal line, either diagonal
            {
                float angle = (rng.Chance(0.5) ? MathF.PI / 4 : 3 * MathF.PI / 4) + rng.Uniform(-0.26f, 0.26f);
                float half = 1.3f * r, ex = half * MathF.Cos(angle), ey = half * MathF.Sin(angle);
                PaintShaded(ref rng, canvas, new Segment(x - ex, y - ey, x + ex, y + ey, rng.Uniform(0.9f, 1.8f)),
                    x, y, half + 2, fg);
                break;
            }
            default: // two blobs side by side
            {
                float blob = r * rng.Uniform(0.42f, 0.58f);
                float gap = blob + rng.Uniform(2f, 4.5f);
                float angle = rng.Uniform(0, MathF.PI);
                float ex = gap * MathF.Cos(angle), ey = gap * MathF.Sin(angle);
                var pair = new Pair(new Disk(x - ex, y - ey, blob), new Disk(x + ex, y + ey, blob));
                PaintShaded(ref rng, canvas, pair, x, y, gap + blob + 1, fg);
                break;
            }
        }
    }

    /// <summary>A box or disk patch filled with a stripe or checker pattern; the second colour may be the background.</summary>
    private static void PaintPatch(ref SplitMix64 rng, float[] canvas, float x, float y, float r, Rgb fg,
        Pattern pattern)
    {
        Rgb? second = rng.Chance(0.5) ? null : ContrastingColour(ref rng, fg, 60);
        float extent;
        IShapeRegion region;
        if (rng.Chance(0.6))
        {
            float aspect = rng.Uniform(0.8f, 1.25f);
            float hx = 1.05f * r * aspect, hy = 1.05f * r / aspect;
            region = new Box(x, y, hx, hy, rng.Uniform(-0.2f, 0.2f));
            extent = MathF.Sqrt((hx * hx) + (hy * hy));
        }
        else
        {
            region = new Disk(x, y, 1.15f * r);
            extent = 1.15f * r;
        }
        Bounds(x, y, extent + 1, out int x0, out int x1, out int y0, out int y1);
        float cos = MathF.Cos(pattern.Angle), sin = MathF.Sin(pattern.Angle);
        for (int py = y0; py < y1; py++)
        for (int px = x0; px < x1; px++)
        {
            float sx = px + 0.5f, sy = py + 0.5f;
            float a = Coverage(region.Distance(sx, sy));
            if (a <= 0) continue;
            float dx = sx - x, dy = sy - y;
            float u = (dx * cos) + (dy * sin), v = (-dx * sin) + (dy * cos);
            // Stripes vary across the stripe direction: horizontal stripes (angle 0) change with v (the y axis).
            float p = StripeCoverage(v, pattern.Period, pattern.Phase);
            if (pattern.Checker)
            {
                float q = StripeCoverage(u, pattern.Period, pattern.Phase);
                p = (p * q) + ((1 - p) * (1 - q));
            }
            if (second is Rgb b) Blend(canvas, px, py, Rgb.Lerp(b, fg, p), a);
            else Blend(canvas, px, py, fg, a * p);
        }
    }

    private readonly record struct Pattern(float Angle, float Period, float Phase, bool Checker);

    /// <summary>Coverage of the "on" half of a stripe pattern at coordinate <paramref name="t"/>, anti-aliased.</summary>
    private static float StripeCoverage(float t, float period, float phase)
    {
        float f = (t / period) + phase;
        f -= MathF.Floor(f);
        return Coverage((MathF.Abs(f - 0.5f) - 0.25f) * period);
    }

    // ---------------------------------------------------------------- painting

    private static void PaintShaded<T>(ref SplitMix64 rng, float[] canvas, T shape, float x, float y, float extent,
        Rgb colour) where T : IShapeRegion
    {
        // A soft light from one side, so filled shapes are not perfectly flat.
        float angle = rng.Uniform(0, MathF.Tau), strength = rng.Uniform(0, 0.25f) / MathF.Max(extent, 1);
        float lx = strength * MathF.Cos(angle), ly = strength * MathF.Sin(angle);
        Bounds(x, y, extent + 1, out int x0, out int x1, out int y0, out int y1);
        for (int py = y0; py < y1; py++)
        for (int px = x0; px < x1; px++)
        {
            float sx = px + 0.5f, sy = py + 0.5f;
            float a = Coverage(shape.Distance(sx, sy));
            if (a <= 0) continue;
            float shade = 1 + ((sx - x) * lx) + ((sy - y) * ly);
            Blend(canvas, px, py, colour * shade, a);
        }
    }

    private static void PaintSolid<T>(float[] canvas, T shape, float x, float y, float extent, Rgb colour)
        where T : IShapeRegion
    {
        Bounds(x, y, extent + 1, out int x0, out int x1, out int y0, out int y1);
        for (int py = y0; py < y1; py++)
        for (int px = x0; px < x1; px++)
        {
            float a = Coverage(shape.Distance(px + 0.5f, py + 0.5f));
            if (a > 0) Blend(canvas, px, py, colour, a);
        }
    }

    private static float Coverage(float signedDistance) => Math.Clamp(0.5f - signedDistance, 0, 1);

    private static void Bounds(float x, float y, float extent, out int x0, out int x1, out int y0, out int y1)
    {
        x0 = Math.Clamp((int)MathF.Floor(x - extent), 0, Size);
        x1 = Math.Clamp((int)MathF.Ceiling(x + extent), 0, Size);
        y0 = Math.Clamp((int)MathF.Floor(y - extent), 0, Size);
        y1 = Math.Clamp((int)MathF.Ceiling(y + extent), 0, Size);
    }

    private static void Fill(float[] canvas, Rgb c)
    {
        canvas.AsSpan(0, Plane).Fill(c.R);
        canvas.AsSpan(Plane, Plane).Fill(c.G);
        canvas.AsSpan(2 * Plane, Plane).Fill(c.B);
    }

    private static void Set(float[] canvas, int px, int py, Rgb c)
    {
        int i = (py * Size) + px;
        canvas[i] = c.R;
        canvas[Plane + i] = c.G;
        canvas[(2 * Plane) + i] = c.B;
    }

    private static void Blend(float[] canvas, int px, int py, Rgb c, float a)
    {
        int i = (py * Size) + px;
        canvas[i] += (c.R - canvas[i]) * a;
        canvas[Plane + i] += (c.G - canvas[Plane + i]) * a;
        canvas[(2 * Plane) + i] += (c.B - canvas[(2 * Plane) + i]) * a;
    }

    // ---------------------------------------------------------------- colours

    private static Rgb RandomColour(ref SplitMix64 rng) =>
        new(rng.Uniform(0, 256), rng.Uniform(0, 256), rng.Uniform(0, 256));

    /// <summary>A random colour at least <paramref name="minDistance"/> (RGB Euclidean) from <paramref name="other"/>, when one is found in a few tries.</summary>
    private static Rgb ContrastingColour(ref SplitMix64 rng, Rgb other, float minDistance)
    {
        var best = RandomColour(ref rng);
        float bestDistance = Rgb.Distance(best, other);
        for (int attempt = 0; attempt < 16 && bestDistance < minDistance; attempt++)
        {
            var c = RandomColour(ref rng);
            float d = Rgb.Distance(c, other);
            if (d > bestDistance) (best, bestDistance) = (c, d);
        }
        return best;
    }

    /// <summary>A colour about <paramref name="distance"/> away from <paramref name="other"/> in a random direction.</summary>
    private static Rgb NearColour(ref SplitMix64 rng, Rgb other, float distance)
    {
        float dr = rng.NextNormalish(), dg = rng.NextNormalish(), db = rng.NextNormalish();
        float scale = distance / MathF.Max(MathF.Sqrt((dr * dr) + (dg * dg) + (db * db)), 1e-3f);
        return new Rgb(Math.Clamp(other.R + (dr * scale), 0, 255), Math.Clamp(other.G + (dg * scale), 0, 255),
            Math.Clamp(other.B + (db * scale), 0, 255));
    }

    private readonly record struct Rgb(float R, float G, float B)
    {
        public static Rgb operator *(Rgb c, float s) => new(c.R * s, c.G * s, c.B * s);

        public static Rgb Lerp(Rgb a, Rgb b, float t) =>
            new(a.R + ((b.R - a.R) * t), a.G + ((b.G - a.G) * t), a.B + ((b.B - a.B) * t));

        public static float Distance(Rgb a, Rgb b)
        {
            float dr = a.R - b.R, dg = a.G - b.G, db = a.B - b.B;
            return MathF.Sqrt((dr * dr) + (dg * dg) + (db * db));
        }
    }

    // ---------------------------------------------------------------- shapes as signed distances (negative inside)

    private interface IShapeRegion
    {
        float Distance(float x, float y);
    }

    private readonly record struct Disk(float X, float Y, float Radius) : IShapeRegion
    {
        public float Distance(float x, float y) => Length(x - X, y - Y) - Radius;
    }

    private readonly record struct Ring(float X, float Y, float Radius, float HalfWidth) : IShapeRegion
    {
        public float Distance(float x, float y) => MathF.Abs(Length(x - X, y - Y) - Radius) - HalfWidth;
    }

    private readonly struct Box(float x, float y, float halfX, float halfY, float angle) : IShapeRegion
    {
        private readonly float _cos = MathF.Cos(angle), _sin = MathF.Sin(angle);

        public float Distance(float px, float py)
        {
            float dx = px - x, dy = py - y;
            float u = (dx * _cos) + (dy * _sin), v = (-dx * _sin) + (dy * _cos);
            return MathF.Max(MathF.Abs(u) - halfX, MathF.Abs(v) - halfY);
        }
    }

    private readonly struct Cross(float x, float y, float arm, float half, float angle) : IShapeRegion
    {
        private readonly Box _a = new(x, y, arm, half, angle), _b = new(x, y, half, arm, angle);

        public float Distance(float px, float py) => MathF.Min(_a.Distance(px, py), _b.Distance(px, py));
    }

    private readonly struct Triangle : IShapeRegion
    {
        private readonly float _x, _y, _inradius, _n0x, _n0y, _n1x, _n1y, _n2x, _n2y;

        public Triangle(float x, float y, float circumradius, float angle)
        {
            (_x, _y, _inradius) = (x, y, circumradius / 2);
            (_n0x, _n0y) = (MathF.Cos(angle), MathF.Sin(angle));
            (_n1x, _n1y) = (MathF.Cos(angle + (MathF.Tau / 3)), MathF.Sin(angle + (MathF.Tau / 3)));
            (_n2x, _n2y) = (MathF.Cos(angle - (MathF.Tau / 3)), MathF.Sin(angle - (MathF.Tau / 3)));
        }

        public float Distance(float px, float py)
        {
            float dx = px - _x, dy = py - _y;
            float d0 = (dx * _n0x) + (dy * _n0y), d1 = (dx * _n1x) + (dy * _n1y), d2 = (dx * _n2x) + (dy * _n2y);
            return MathF.Max(d0, MathF.Max(d1, d2)) - _inradius;
        }
    }

    private readonly record struct Segment(float Ax, float Ay, float Bx, float By, float HalfWidth) : IShapeRegion
    {
        public float Distance(float x, float y)
        {
            float pax = x - Ax, pay = y - Ay, bax = Bx - Ax, bay = By - Ay;
            float h = Math.Clamp(((pax * bax) + (pay * bay)) / ((bax * bax) + (bay * bay)), 0, 1);
            return Length(pax - (bax * h), pay - (bay * h)) - HalfWidth;
        }
    }

    private readonly record struct Pair(Disk A, Disk B) : IShapeRegion
    {
        public float Distance(float x, float y) => MathF.Min(A.Distance(x, y), B.Distance(x, y));
    }

    private static float Length(float x, float y) => MathF.Sqrt((x * x) + (y * y));
}

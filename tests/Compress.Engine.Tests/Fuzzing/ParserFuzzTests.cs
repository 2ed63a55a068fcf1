using System.Globalization;
using System.Text.RegularExpressions;
using Compress.Engine.Data;
using Compress.Engine.Diagnostics;
using Compress.Engine.Tests.Data;
using Xunit.Abstractions;

namespace Compress.Engine.Tests.Fuzzing;

/// <summary>
/// The repository's fuzzing suite: for each input parser, seeded mutations of valid inputs (see <see cref="Mutator"/>).
/// Each case must end in success or a coded error (CMPxxxx, not the internal-error code) that names the path; never
/// another exception, a hang, an allocation out of proportion to the input, or a file left in the folder.
/// </summary>
/// <remarks>
/// <c>COMPRESS_FUZZ_CASES</c> sets the cases per parser (default 1,000: 11,000 in all, about ten seconds on a
/// 2-core machine); <c>COMPRESS_FUZZ_SEED</c> the seed (default 1); <c>COMPRESS_FUZZ_FIRST</c> the first case, so
/// that one case is rerun alone. A long run: <c>COMPRESS_FUZZ_CASES=50000 dotnet test tests/Compress.Engine.Tests
/// --filter FullyQualifiedName~ParserFuzzTests</c>. Failing inputs are saved under the temp folder's
/// <c>compress-fuzz-failures</c>.
/// </remarks>
public sealed partial class ParserFuzzTests(ITestOutputHelper output)
{
    /// <summary>Case numbers (seed 1) that failed once, per parser, with what was fixed.</summary>
    private static readonly Dictionary<string, int[]> Regressions = new(StringComparer.Ordinal)
    {
        // ONNX nodes with fewer inputs than their op takes indexed past the end (ArgumentOutOfRangeException).
        ["onnx"] = [5711, 9221, 25303, 37683, 42532],
    };

    /// <summary>At most this much allocated per case beyond 64 bytes per input byte.</summary>
    private const long AllocationAllowance = 64L << 20;

    private static readonly TimeSpan CaseLimit = TimeSpan.FromSeconds(30);

    public static TheoryData<string> Targets => new(FuzzTargets.Names);

    [Theory]
    [MemberData(nameof(Targets))]
    public void MutatedInputs_AreAcceptedOrACodedErrorNamingThePath_NeverAnotherExceptionOrALeftoverFile(string name)
    {
        var target = FuzzTargets.Get(name);
        int cases = Setting("COMPRESS_FUZZ_CASES", 1000);
        int first = Setting("COMPRESS_FUZZ_FIRST", 0);
        ulong seed = (ulong)Setting("COMPRESS_FUZZ_SEED", 1);
        using var dir = new TempDirectory();
        byte[] OnDisk(string file, byte[] bytes) => target.Rewrap?.Invoke(file, bytes) ?? bytes;
        foreach (var (file, bytes) in target.Files)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(dir.Combine(file))!);
            File.WriteAllBytes(dir.Combine(file), OnDisk(file, bytes));
        }
        var listing = Listing(dir.Path);
        // The seeds are valid inputs: the parser accepts them as they are.
        target.Parse(dir.Path);

        string[] files = [.. target.Files.Keys.Order(StringComparer.Ordinal)];
        var codes = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var failures = new List<string>();
        int accepted = 0;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        // Cases that failed in a long run once (seed 1) are always run again, whatever the settings.
        var indices = Enumerable.Range(first, cases).Concat(seed == 1 ? Regressions.GetValueOrDefault(name, []) : []).Distinct().ToList();
        foreach (int i in indices)
        {
            ulong caseSeed = SplitMix64.Mix(seed, Fnv(name), (ulong)i);
            string file = files[(int)(caseSeed % (ulong)files.Length)];
            var (mutated, what) = Mutator.Mutate(target.Files[file], caseSeed);
            byte[] bytes = OnDisk(file, mutated);
            File.WriteAllBytes(dir.Combine(file), bytes);
            string? failure = RunCase(target, dir.Path, bytes.Length, out var error);
            File.WriteAllBytes(dir.Combine(file), OnDisk(file, target.Files[file]));
            var left = Listing(dir.Path).Except(listing, StringComparer.Ordinal).ToList();
            if (failure is null && left.Count > 0) failure = "left " + string.Join(", ", left);
            foreach (string extra in left) DeleteEntry(Path.Combine(dir.Path, extra));

            if (failure is not null)
            {
                string saved = Save(name, i, file, bytes);
                failures.Add(string.Create(CultureInfo.InvariantCulture,
                    $"case {i} ({file}: {what}): {failure}; input saved to {saved}; rerun: COMPRESS_FUZZ_SEED={seed} COMPRESS_FUZZ_FIRST={i} COMPRESS_FUZZ_CASES=1"));
            }
            else if (error is null) accepted++;
            else codes[error.Code] = codes.GetValueOrDefault(error.Code) + 1;
        }

        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{name}: {indices.Count} cases in {clock.Elapsed.TotalSeconds:F1} s: {accepted} accepted, {codes.Values.Sum()} coded errors ({string.Join(", ", codes.Select(c => $"{c.Key} x{c.Value}"))}), {failures.Count} failures"));
        Assert.True(failures.Count == 0, $"{failures.Count} of {indices.Count} cases failed:\n" + string.Join("\n", failures.Take(10)));
        // Mutations that never produce an error test nothing: each parser must have rejected some.
        if (cases >= 50) Assert.True(codes.Values.Sum() >= cases / 20, $"only {codes.Values.Sum()} of {cases} cases were rejected");
    }

    /// <summary>Runs one case; returns why it failed, or null (with the coded error, if it was one).</summary>
    private static string? RunCase(FuzzTarget target, string folder, long inputBytes, out CompressException? error)
    {
        Exception? caught = null;
        long allocated = 0;
        var task = Task.Run(() =>
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                target.Parse(folder);
            }
            catch (Exception e)
            {
                caught = e;
            }
            allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        });
        error = null;
        if (!task.Wait(CaseLimit)) return $"still running after {CaseLimit.TotalSeconds:F0} s";
        long limit = AllocationAllowance + (64 * inputBytes);
        string? tooMuch = allocated > limit
            ? string.Create(CultureInfo.InvariantCulture, $"allocated {allocated:N0} bytes for {inputBytes:N0} bytes of input (limit {limit:N0})")
            : null;
        switch (caught)
        {
            case null:
                return tooMuch;
            case CompressException coded when !CodePattern().IsMatch(coded.Code) || coded.Code == DiagnosticCode.InternalError:
                return $"bad code {coded.Code}: {coded.Message}";
            case CompressException coded when string.IsNullOrEmpty(coded.FilePath) || string.IsNullOrWhiteSpace(coded.Message):
                return $"{coded.Code} without the path or a message: {coded.Message}";
            case CompressException coded:
                error = coded;
                return tooMuch;
            default:
                var frames = (caught.StackTrace ?? "").Split('\n').Select(f => f.Trim()).ToList();
                string where = frames.FirstOrDefault(f => f.Contains("Compress.Engine.", StringComparison.Ordinal)) ?? frames.FirstOrDefault() ?? "";
                return $"{caught.GetType().Name}: {caught.Message} {where}";
        }
    }

    [GeneratedRegex("^CMP[0-9]{4}$", RegexOptions.CultureInvariant)]
    private static partial Regex CodePattern();

    private static List<string> Listing(string folder) =>
        [.. Directory.EnumerateFileSystemEntries(folder, "*", SearchOption.AllDirectories).Select(p => Path.GetRelativePath(folder, p)).Order(StringComparer.Ordinal)];

    private static void DeleteEntry(string path)
    {
        if (Directory.Exists(path)) Directory.Delete(path, recursive: true);
        else if (File.Exists(path)) File.Delete(path);
    }

    private static string Save(string name, int index, string file, byte[] bytes)
    {
        string folder = Path.Combine(Path.GetTempPath(), "compress-fuzz-failures");
        Directory.CreateDirectory(folder);
        string path = Path.Combine(folder, string.Create(CultureInfo.InvariantCulture, $"{name}-{index}-{Path.GetFileName(file)}"));
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static int Setting(string variable, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(variable), NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) && value >= 0 ? value : fallback;

    /// <summary>A stable hash of the parser's name (string.GetHashCode differs per process).</summary>
    private static ulong Fnv(string text)
    {
        ulong h = 14695981039346656037UL;
        foreach (char c in text) h = (h ^ c) * 1099511628211UL;
        return h;
    }
}

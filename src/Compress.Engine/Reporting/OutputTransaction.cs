using System.Globalization;
using Compress.Engine.Diagnostics;

namespace Compress.Engine.Reporting;

/// <summary>
/// Makes a run's outputs one transaction: while it is active, every file the engine writes (through
/// <see cref="AtomicFile"/>, the safetensors writer or the plot writer) into one of its folders goes to a hidden staging
/// folder inside that folder (<c>.compress-staging.&lt;pid&gt;-&lt;hex&gt;.tmp</c>, same file system, same file names) and
/// the previous files stay in place. <see cref="Commit"/> moves them all into place at the end; ending without a commit
/// (an error, Ctrl+C, SIGTERM) removes the staging folders, so the previous set stays complete and no temp file is left.
/// </summary>
/// <remarks>
/// The commit first marks every staging folder complete (a <c>commit</c> file), then renames. A process killed between
/// the two is finished by the next run in that folder (<see cref="AtomicFile.RemoveStaleTemporaryFiles"/> moves the
/// marked set into place); an unmarked staging folder of a dead process is removed. Reads of a file staged earlier in
/// the same run (the baseline the prune step loads, the ONNX it verifies) go to the staged copy through
/// <see cref="ReadPathOf"/>. One transaction per asynchronous flow (<see cref="Current"/>); jobs nest in an outer one.
/// </remarks>
public sealed class OutputTransaction : IDisposable
{
    /// <summary>The name of the marker that says a staging folder is complete and is to be moved into place.</summary>
    internal const string CommitMarker = "commit";
    private const string StagingPrefix = ".compress-staging.";

    private static readonly AsyncLocal<OutputTransaction?> current = new();

    private readonly Dictionary<string, string> staging = new(PathComparer); // owned folder -> its staging folder
    private readonly Dictionary<string, string> staged = new(PathComparer);  // final path -> staged path
    private readonly IDiagnosticSink sink;
    private readonly OutputTransaction? outer;
    private bool ended;

    private OutputTransaction(IEnumerable<string> folders, IDiagnosticSink sink)
    {
        this.sink = sink;
        string id = Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + "-" + Guid.NewGuid().ToString("N", CultureInfo.InvariantCulture)[..8];
        foreach (string folder in folders.Select(f => Path.GetFullPath(string.IsNullOrEmpty(f) ? "." : f)).Distinct(PathComparer))
            staging[folder] = Path.Combine(folder, StagingPrefix + id + ".tmp");
        outer = current.Value;
        current.Value = this;
    }

    /// <summary>The transaction of this flow, if one is active.</summary>
    public static OutputTransaction? Current => current.Value;

    /// <summary>
    /// Starts a transaction over <paramref name="folders"/> (each created if missing; CMP0004 when impossible), after
    /// finishing or removing what killed runs left in them.
    /// </summary>
    public static OutputTransaction Begin(IEnumerable<string> folders, IDiagnosticSink sink)
    {
        ArgumentNullException.ThrowIfNull(folders);
        ArgumentNullException.ThrowIfNull(sink);
        var list = folders.ToList();
        foreach (string folder in list)
        {
            AtomicFile.CreateDirectory(folder, "output");
            AtomicFile.RemoveStaleTemporaryFiles(folder, sink);
        }
        return new OutputTransaction(list, sink);
    }

    /// <summary>
    /// Runs <paramref name="body"/> inside a transaction over the folders of <paramref name="outputs"/> (null ones
    /// ignored) and commits it when the body returns; inside an active transaction, just runs the body (the outer one
    /// commits).
    /// </summary>
    public static T Run<T>(IEnumerable<string?> outputs, IDiagnosticSink sink, Func<T> body)
    {
        ArgumentNullException.ThrowIfNull(body);
        var folders = outputs.OfType<string>().Select(p => Path.GetDirectoryName(Path.GetFullPath(p)) ?? ".").Distinct(PathComparer).ToList();
        if (Current is not null || folders.Count == 0) return body();
        using var transaction = Begin(folders, sink);
        var result = body();
        transaction.Commit();
        return result;
    }

    /// <summary>The files staged so far (their final paths), in the order they were first written.</summary>
    public IReadOnlyList<string> Staged => [.. staged.Keys];

    /// <summary>
    /// Where a write of <paramref name="fullPath"/> goes: the staging folder of its folder when this transaction owns
    /// that folder (the staging folder is created on first use), else the path itself.
    /// </summary>
    internal string TargetOf(string fullPath)
    {
        if (ended) return fullPath;
        if (staged.TryGetValue(fullPath, out string? existing)) return existing;
        string folder = Path.GetDirectoryName(fullPath) ?? ".";
        if (!staging.TryGetValue(folder, out string? stage)) return fullPath;
        AtomicFile.CreateDirectory(stage, "staging");
        string target = Path.Combine(stage, Path.GetFileName(fullPath));
        staged[fullPath] = target;
        return target;
    }

    /// <summary>The file to read for <paramref name="path"/>: its staged copy when the active transaction wrote it.</summary>
    public static string ReadPathOf(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        for (var t = Current; t is not null; t = t.outer)
        {
            if (t.ended || t.staged.Count == 0) continue;
            string full;
            try
            {
                full = Path.GetFullPath(path);
            }
            catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
            {
                return path;
            }
            if (t.staged.TryGetValue(full, out string? stagedPath) && File.Exists(stagedPath)) return stagedPath;
        }
        return path;
    }

    /// <summary>
    /// Moves every staged file into place (replacing the previous one) and returns their final paths. Not cancellable:
    /// once the set is marked complete it is finished, by this process or by the next run.
    /// </summary>
    public IReadOnlyList<string> Commit()
    {
        ObjectDisposedException.ThrowIf(ended, this);
        var written = new List<string>();
        try
        {
            var used = staging.Values.Where(Directory.Exists).ToList();
            foreach (string stage in used) File.WriteAllText(Path.Combine(stage, CommitMarker), "");
            foreach (var (final, stagedPath) in staged)
            {
                if (!File.Exists(stagedPath)) continue;
                File.Move(stagedPath, final, overwrite: true);
                written.Add(final);
            }
            foreach (string stage in used) Directory.Delete(stage, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CompressException(DiagnosticCode.OutputWriteFailed, $"Could not move the run's outputs into place: {e.Message}",
                written.Count > 0 ? written[^1] : staging.Keys.First(),
                "Check that the output folder is writable; the next run in it finishes the move.", e);
        }
        finally
        {
            End();
        }
        foreach (var group in written.GroupBy(p => Path.GetDirectoryName(p)!, PathComparer))
            sink.Progress($"output: wrote {string.Join(", ", group.Select(Path.GetFileName))} to {group.Key}");
        return written;
    }

    /// <summary>Ends the transaction; without a commit, removes what it staged and says that nothing was replaced.</summary>
    public void Dispose()
    {
        if (ended) return;
        var discarded = staged.Keys.Where(k => File.Exists(staged[k])).ToList();
        foreach (string stage in staging.Values) AtomicFile.TryDeleteDirectory(stage);
        End();
        if (discarded.Count > 0)
            sink.Progress($"output: nothing replaced; discarded the unfinished {string.Join(", ", discarded.Select(Path.GetFileName))} " +
                          $"(the previous files in {string.Join(", ", discarded.Select(Path.GetDirectoryName).Distinct(PathComparer))} are unchanged)");
    }

    private void End()
    {
        ended = true;
        if (current.Value == this) current.Value = outer;
    }

    /// <summary>Whether <paramref name="name"/> is a staging folder's name.</summary>
    internal static bool IsStagingName(string name) => name.StartsWith(StagingPrefix, StringComparison.Ordinal);

    private static StringComparer PathComparer => OperatingSystem.IsWindows() || OperatingSystem.IsMacOS() ? StringComparer.OrdinalIgnoreCase : StringComparer.Ordinal;
}

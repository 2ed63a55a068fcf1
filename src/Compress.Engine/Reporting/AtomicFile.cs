using Compress.Engine.Diagnostics;

namespace Compress.Engine.Reporting;

/// <summary>
/// Writes a file through a temporary file in the same folder, then renames it into place: a failed or cancelled run
/// leaves the previous file untouched and never a half-written one.
/// </summary>
public static class AtomicFile
{
    /// <summary>Writes <paramref name="contents"/> to <paramref name="path"/> atomically.</summary>
    public static void WriteAllText(string path, string contents) =>
        Write(path, stream =>
        {
            using var writer = new StreamWriter(stream, new System.Text.UTF8Encoding(false));
            writer.Write(contents);
        });

    /// <summary>Calls <paramref name="write"/> with a stream to a temporary file, then moves it to <paramref name="path"/>.</summary>
    public static void Write(string path, Action<Stream> write)
    {
        ArgumentNullException.ThrowIfNull(write);
        string full = Path.GetFullPath(path);
        string target = TargetOf(full);
        string temp = TemporaryPathFor(target);
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
            {
                write(stream);
            }
            File.Move(temp, target, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            TryDelete(temp);
            throw new CompressException(DiagnosticCode.OutputWriteFailed, $"Could not write the output file: {e.Message}", full,
                "Check that the folder exists and is writable.", e);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    /// <summary>
    /// A temporary name beside <paramref name="target"/>, hidden, unique (two writers never share one) and carrying this
    /// process's id, <c>.&lt;name&gt;.&lt;pid&gt;-&lt;hex&gt;.tmp</c>, so that <see cref="RemoveStaleTemporaryFiles"/> removes
    /// it if the process is killed mid-write. Every writer of the engine uses it.
    /// </summary>
    public static string TemporaryPathFor(string target) =>
        Path.Combine(Path.GetDirectoryName(target) ?? ".", "." + Path.GetFileName(target) + "." +
            Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture) + "-" +
            Guid.NewGuid().ToString("N", System.Globalization.CultureInfo.InvariantCulture)[..8] + ".tmp");

    /// <summary>
    /// The file a write of <paramref name="fullPath"/> goes to: its staged copy while an <see cref="OutputTransaction"/>
    /// owns its folder, else the path itself.
    /// </summary>
    public static string TargetOf(string fullPath) => OutputTransaction.Current?.TargetOf(fullPath) ?? fullPath;

    /// <summary>Creates <paramref name="folder"/> (and its parents); CMP0004 naming it when that is impossible (a file in
    /// the way, no permission).</summary>
    public static void CreateDirectory(string folder, string what)
    {
        try
        {
            Directory.CreateDirectory(folder);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CompressException(DiagnosticCode.OutputWriteFailed, $"Could not create the {what} folder: {e.Message}",
                Path.GetFullPath(folder), "Choose a writable folder that is not under a file.", e);
        }
    }

    /// <summary>
    /// Removes the temporary files that a killed run (SIGKILL, power loss: no chance to clean up) left in
    /// <paramref name="folder"/>: names ending in <c>.&lt;pid&gt;.tmp</c> or <c>.&lt;pid&gt;-&lt;hex&gt;.tmp</c> (the forms
    /// this engine writes) whose process is no longer running. A file of a live process is left alone. A staging folder
    /// of an <see cref="OutputTransaction"/> marked complete is finished (its files moved into place); an unmarked one is
    /// removed. Returns how many were removed; a missing folder has none.
    /// </summary>
    public static int RemoveStaleTemporaryFiles(string folder, IDiagnosticSink? sink = null)
    {
        if (!Directory.Exists(folder)) return 0;
        int removed = 0;
        foreach (string stage in Directory.EnumerateDirectories(folder, "*.tmp"))
        {
            string name = Path.GetFileName(stage);
            if (!OutputTransaction.IsStagingName(name) || !IsStale(name, out int owner)) continue;
            if (File.Exists(Path.Combine(stage, OutputTransaction.CommitMarker)))
            {
                var moved = new List<string>();
                foreach (string file in Directory.EnumerateFiles(stage))
                {
                    string fileName = Path.GetFileName(file);
                    if (fileName == OutputTransaction.CommitMarker || StaleTemp.IsMatch(fileName)) continue;
                    try
                    {
                        File.Move(file, Path.Combine(folder, fileName), overwrite: true);
                        moved.Add(fileName);
                    }
                    catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                    {
                        throw new CompressException(DiagnosticCode.OutputWriteFailed,
                            $"Could not finish moving the outputs of an interrupted run into place: {e.Message}", file,
                            "Check that the folder is writable, or remove the staging folder to keep the previous outputs.", e);
                    }
                }
                sink?.Progress($"finished the commit of an interrupted run (process {owner}) in {folder}: moved {string.Join(", ", moved)} into place");
            }
            else
            {
                sink?.Progress($"removed {name}, the unfinished outputs of an interrupted run (process {owner}) in {folder}");
            }
            TryDeleteDirectory(stage);
            if (!Directory.Exists(stage)) removed++;
        }
        foreach (string file in Directory.EnumerateFiles(folder, "*.tmp"))
        {
            if (!IsStale(Path.GetFileName(file), out int pid)) continue;
            TryDelete(file);
            if (!File.Exists(file))
            {
                removed++;
                sink?.Progress($"removed {Path.GetFileName(file)}, a temporary file an interrupted run (process {pid}) left in {folder}");
            }
        }
        return removed;
    }

    private static readonly System.Text.RegularExpressions.Regex StaleTemp =
        new(@"\.(?<pid>\d{1,10})(-[0-9a-f]{1,32})?\.tmp$", System.Text.RegularExpressions.RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));

    /// <summary>Whether <paramref name="name"/> is a temporary name of a process that is no longer running.</summary>
    private static bool IsStale(string name, out int pid)
    {
        var match = StaleTemp.Match(name);
        pid = 0;
        if (!match.Success || !int.TryParse(match.Groups["pid"].Value, System.Globalization.NumberStyles.None,
                System.Globalization.CultureInfo.InvariantCulture, out pid)) return false;
        return pid != Environment.ProcessId && !IsRunning(pid);
    }

    /// <summary>Removes <paramref name="folder"/> and what it holds, ignoring failures (a best-effort clean-up).</summary>
    internal static void TryDeleteDirectory(string folder)
    {
        try
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private static bool IsRunning(int pid)
    {
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false; // no such process
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}

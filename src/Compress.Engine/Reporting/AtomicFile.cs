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
        string temp = full + "." + Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture) + ".tmp";
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
            {
                write(stream);
            }
            File.Move(temp, full, overwrite: true);
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
    /// this engine writes) whose process is no longer running. A file of a live process is left alone. Returns how many
    /// were removed; a missing folder has none.
    /// </summary>
    public static int RemoveStaleTemporaryFiles(string folder, IDiagnosticSink? sink = null)
    {
        if (!Directory.Exists(folder)) return 0;
        int removed = 0;
        foreach (string file in Directory.EnumerateFiles(folder, "*.tmp"))
        {
            var match = StaleTemp.Match(Path.GetFileName(file));
            if (!match.Success || !int.TryParse(match.Groups["pid"].Value, System.Globalization.NumberStyles.None,
                    System.Globalization.CultureInfo.InvariantCulture, out int pid)) continue;
            if (pid == Environment.ProcessId || IsRunning(pid)) continue;
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

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

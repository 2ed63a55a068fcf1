using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;

namespace Compress.Bench;

/// <summary>
/// Resident memory of this process from <c>/proc/self/status</c> (Linux): current (<c>VmRSS</c>) and peak
/// (<c>VmHWM</c>), whose high-water mark Linux 4.0+ resets to the current RSS when <c>5</c> is written to
/// <c>/proc/self/clear_refs</c>. Elsewhere falls back to <see cref="Process"/>'s working set (no reset).
/// </summary>
internal static class ProcessMemory
{
    /// <summary>Current resident bytes.</summary>
    public static long Resident() => Status("VmRSS:") ?? WorkingSet(peak: false);

    /// <summary>Peak resident bytes since the process started or the last successful <see cref="ResetPeak"/>.</summary>
    public static long PeakResident() => Status("VmHWM:") ?? WorkingSet(peak: true);

    /// <summary>Resets the peak to the current resident size; false where the OS does not allow it.</summary>
    public static bool ResetPeak()
    {
        if (!OperatingSystem.IsLinux()) return false;
        try
        {
            using var stream = new FileStream("/proc/self/clear_refs", FileMode.Open, FileAccess.Write);
            stream.Write("5"u8);
            return true;
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>Collects the managed heap aggressively (decommitting what it can) and returns glibc's free pages to the
    /// OS, so that the next measurement's baseline does not include a previous run's garbage.</summary>
    public static void Settle()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        if (OperatingSystem.IsLinux())
        {
            try
            {
                _ = MallocTrim(0);
            }
            catch (DllNotFoundException)
            {
            }
            catch (EntryPointNotFoundException)
            {
            }
        }
    }

    [DllImport("libc", EntryPoint = "malloc_trim")]
    private static extern int MallocTrim(nuint pad);

    private static long WorkingSet(bool peak)
    {
        using var process = Process.GetCurrentProcess();
        return peak ? process.PeakWorkingSet64 : process.WorkingSet64;
    }

    private static long? Status(string field)
    {
        if (!OperatingSystem.IsLinux()) return null;
        foreach (string line in File.ReadLines("/proc/self/status"))
        {
            if (!line.StartsWith(field, StringComparison.Ordinal)) continue;
            string[] parts = line[field.Length..].Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            return long.Parse(parts[0], CultureInfo.InvariantCulture) * 1024; // kB
        }
        return null;
    }
}

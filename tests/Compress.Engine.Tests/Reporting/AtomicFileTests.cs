using System.Diagnostics;
using System.Globalization;
using Compress.Engine.Diagnostics;
using Compress.Engine.Reporting;
using Compress.Engine.Tests.Data;

namespace Compress.Engine.Tests.Reporting;

public sealed class AtomicFileTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void RemoveStaleTemporaryFiles_RemovesThoseOfEndedProcesses_KeepsLiveOnesAndOtherFiles()
    {
        // A process that has ended: what a SIGKILLed run's id is by the next run.
        int dead;
        using (var ended = Process.Start(new ProcessStartInfo(OperatingSystem.IsWindows() ? "cmd" : "true") { ArgumentList = { } })!)
        {
            ended.WaitForExit();
            dead = ended.Id;
        }
        string d = dead.ToString(CultureInfo.InvariantCulture), live = Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        string[] stale = [$"n.onnx.{d}.tmp", $".n.safetensors.{d}-0a1b2c3d.tmp", $".n.cosine.png.{d}.tmp"];
        string[] kept = [$"n.report.json.{live}.tmp", "notes.tmp", "n.onnx", "x.12ab.tmp"];
        foreach (string name in stale.Concat(kept)) File.WriteAllText(_dir.Combine(name), "partial");
        var sink = new CollectingSink();

        int removed = AtomicFile.RemoveStaleTemporaryFiles(_dir.Path, sink);

        Assert.Equal(stale.Length, removed);
        Assert.Equal(kept.Order(StringComparer.Ordinal), Directory.GetFiles(_dir.Path).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Equal(stale.Length, sink.ProgressLines.Count(l => l.Contains($"(process {d})", StringComparison.Ordinal)));
        Assert.Equal(0, AtomicFile.RemoveStaleTemporaryFiles(_dir.Combine("missing")));
    }
}

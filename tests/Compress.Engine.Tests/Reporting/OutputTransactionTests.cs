using System.Diagnostics;
using System.Globalization;
using Compress.Engine.Diagnostics;
using Compress.Engine.Reporting;
using Compress.Engine.Tests.Data;

namespace Compress.Engine.Tests.Reporting;

public sealed class OutputTransactionTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Commit_MovesEveryStagedFileIntoPlaceTogether_AndReadsSeeTheStagedCopyBefore()
    {
        string a = _dir.Combine("a.json"), b = _dir.Combine("b.json");
        File.WriteAllText(a, "old a");
        var sink = new CollectingSink();
        using (var transaction = OutputTransaction.Begin([_dir.Path], sink))
        {
            AtomicFile.WriteAllText(a, "new a");
            AtomicFile.WriteAllText(b, "new b");
            // Not in place yet: the previous file is whole, the new one absent; a read in this run sees the new one.
            Assert.Equal("old a", File.ReadAllText(a));
            Assert.False(File.Exists(b));
            Assert.Equal("new b", File.ReadAllText(OutputTransaction.ReadPathOf(b)));
            Assert.Equal([a, b], transaction.Staged);

            Assert.Equal([a, b], transaction.Commit());
        }
        Assert.Equal("new a", File.ReadAllText(a));
        Assert.Equal("new b", File.ReadAllText(b));
        Assert.Equal(["a.json", "b.json"], Directory.GetFileSystemEntries(_dir.Path).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Contains(sink.ProgressLines, l => l.StartsWith("output: wrote a.json, b.json to ", StringComparison.Ordinal));
        Assert.Null(OutputTransaction.Current);
    }

    [Fact]
    public void Dispose_WithoutCommit_LeavesThePreviousFilesAndNothingElse()
    {
        string a = _dir.Combine("a.json");
        File.WriteAllText(a, "old a");
        var sink = new CollectingSink();
        using (OutputTransaction.Begin([_dir.Path], sink))
        {
            AtomicFile.WriteAllText(a, "new a");
            AtomicFile.WriteAllText(_dir.Combine("b.json"), "new b");
        }
        Assert.Equal("old a", File.ReadAllText(a));
        Assert.Equal(["a.json"], Directory.GetFileSystemEntries(_dir.Path).Select(Path.GetFileName));
        Assert.Contains(sink.ProgressLines, l => l.StartsWith("output: nothing replaced; discarded the unfinished a.json, b.json", StringComparison.Ordinal));
    }

    [Fact]
    public void Write_OutsideTheOwnedFolders_GoesStraightToItsPath()
    {
        string other = _dir.Combine("other");
        Directory.CreateDirectory(other);
        using var transaction = OutputTransaction.Begin([_dir.Combine("owned")], new CollectingSink());
        AtomicFile.WriteAllText(Path.Combine(other, "scratch.txt"), "now");
        Assert.Equal("now", File.ReadAllText(Path.Combine(other, "scratch.txt")));
        Assert.Empty(transaction.Staged);
    }

    [Fact]
    public void Begin_FinishesAKilledRunsMarkedCommit_AndRemovesAnUnmarkedStaging()
    {
        int dead = EndedProcessId();
        string d = dead.ToString(CultureInfo.InvariantCulture);
        File.WriteAllText(_dir.Combine("model.onnx"), "old model");
        File.WriteAllText(_dir.Combine("report.json"), "old report");
        // Killed after marking its set complete (during the renames): the next run finishes the move.
        string marked = Directory.CreateDirectory(_dir.Combine($".compress-staging.{d}-0a1b2c3d.tmp")).FullName;
        File.WriteAllText(Path.Combine(marked, "model.onnx"), "new model");
        File.WriteAllText(Path.Combine(marked, OutputTransaction.CommitMarker), "");
        // Killed while writing: the staged files never replace anything.
        string unmarked = Directory.CreateDirectory(_dir.Combine($".compress-staging.{d}-99aa88bb.tmp")).FullName;
        File.WriteAllText(Path.Combine(unmarked, "report.json"), "half a report");
        var sink = new CollectingSink();

        using (OutputTransaction.Begin([_dir.Path], sink))
        {
        }

        Assert.Equal("new model", File.ReadAllText(_dir.Combine("model.onnx")));
        Assert.Equal("old report", File.ReadAllText(_dir.Combine("report.json")));
        Assert.Equal(["model.onnx", "report.json"], Directory.GetFileSystemEntries(_dir.Path).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Contains(sink.ProgressLines, l => l.Contains($"finished the commit of an interrupted run (process {d})", StringComparison.Ordinal));
        Assert.Contains(sink.ProgressLines, l => l.Contains($"the unfinished outputs of an interrupted run (process {d})", StringComparison.Ordinal));
    }

    [Fact]
    public void Run_NestedInAnActiveTransaction_LeavesTheCommitToTheOuterOne()
    {
        string a = _dir.Combine("a.txt");
        using (var outer = OutputTransaction.Begin([_dir.Path], new CollectingSink()))
        {
            OutputTransaction.Run([a], new CollectingSink(), () =>
            {
                AtomicFile.WriteAllText(a, "inner");
                return 0;
            });
            Assert.False(File.Exists(a));
            outer.Commit();
        }
        Assert.Equal("inner", File.ReadAllText(a));
    }

    /// <summary>The id of a process that has ended: what a SIGKILLed run's id is by the next run.</summary>
    internal static int EndedProcessId()
    {
        using var ended = Process.Start(new ProcessStartInfo(OperatingSystem.IsWindows() ? "cmd" : "true"))!;
        ended.WaitForExit();
        return ended.Id;
    }
}

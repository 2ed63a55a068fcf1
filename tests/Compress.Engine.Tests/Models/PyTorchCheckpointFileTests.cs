using System.IO.Compression;
using Compress.Engine.Diagnostics;
using Compress.Engine.Models;

namespace Compress.Engine.Tests.Models;

public sealed class PyTorchCheckpointFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("compress-pt-tests-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Read_TruncatedZip_ThrowsCmp0103()
    {
        byte[] bytes = File.ReadAllBytes(ModelFixtures.Get("lenet5").CheckpointPath);
        string path = Path.Combine(_dir, "truncated.pt");
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
        var e = AssertCorrupt(path);
        Assert.Contains("zip", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_ZipWithoutDataPkl_ThrowsCmp0103()
    {
        string path = Rewrite("nodata.pt", (name, _) => name.EndsWith("data.pkl", StringComparison.Ordinal) ? null : _);
        var e = AssertCorrupt(path);
        Assert.Contains("data.pkl", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_GarbagePickle_ThrowsCmp0103WithOffsetInDataPkl()
    {
        string path = Rewrite("garbage.pt", (name, data) =>
            name.EndsWith("data.pkl", StringComparison.Ordinal) ? [0x80, 0x02, 0x7d, 0xff] : data);
        var e = AssertCorrupt(path);
        Assert.Contains("data.pkl is malformed at byte offset 3", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_MissingStorageEntry_ThrowsCmp0103NamingTensor()
    {
        // lenet5.pt stores conv1.weight in storage "0".
        string path = Rewrite("nostorage.pt", (name, data) => name.EndsWith("/data/0", StringComparison.Ordinal) ? null : data);
        var e = AssertCorrupt(path);
        Assert.Contains("'conv1.weight'", e.Message, StringComparison.Ordinal);
        Assert.Contains("missing", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_ShortStorage_ThrowsCmp0103NamingTensor()
    {
        string path = Rewrite("short.pt", (name, data) =>
            name.EndsWith("/data/0", StringComparison.Ordinal) ? data![..8] : data);
        var e = AssertCorrupt(path);
        Assert.Contains("'conv1.weight'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_DictWithoutTensors_ThrowsCmp0103ListingTopLevelKeys()
    {
        // Protocol 2 pickle of {'epoch': 3}.
        string path = Rewrite("notensors.pt", (name, data) => name.EndsWith("data.pkl", StringComparison.Ordinal)
            ? Convert.FromHexString("80027d7100580500000065706f636871014b03732e")
            : data);
        var e = AssertCorrupt(path);
        Assert.Contains("no state dict", e.Message, StringComparison.Ordinal);
        Assert.Contains("epoch", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("posix", "system")]
    [InlineData("builtins", "eval")]
    [InlineData("subprocess", "check_output")]
    public void Read_PickleThatCallsCode_IsRefusedWithCmp0103NamingTheCall(string module, string name)
    {
        // Protocol 2 pickle of {'x': module.name('echo pwned')}: never run, and no longer accepted either.
        byte[] pickle = [0x80, 0x02, (byte)'}', (byte)'X', 1, 0, 0, 0, (byte)'x', (byte)'c',
            .. System.Text.Encoding.ASCII.GetBytes(module + "\n" + name + "\n"), (byte)'X', 10, 0, 0, 0,
            .. "echo pwned"u8.ToArray(), 0x85, (byte)'R', (byte)'s', (byte)'.'];
        string path = Rewrite("calls.pt", (entry, data) => entry.EndsWith("data.pkl", StringComparison.Ordinal) ? pickle : data);

        var e = AssertCorrupt(path);

        Assert.Contains($"it calls {module}.{name}", e.Message, StringComparison.Ordinal);
        Assert.Contains("runs no code from a checkpoint", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_WrappedFixture_GivesSameTensorsAsItsReference()
    {
        var reference = ModelFixtures.Get("lenet5-wrapped");
        var tensors = PyTorchCheckpointFile.Read(reference.CheckpointPath);
        // Inside the file the keys still carry the DataParallel prefix; Checkpoint.ReadStateDict strips it.
        Assert.Equal(reference.StateDictOrder.Select(k => "module." + k), tensors.Select(t => t.Key));
        Assert.All(tensors, t => Assert.Equal("F32", t.Tensor.DType));
    }

    private string Rewrite(string fileName, Func<string, byte[]?, byte[]?> edit)
    {
        string path = Path.Combine(_dir, fileName);
        using (var source = ZipFile.OpenRead(ModelFixtures.Get("lenet5").CheckpointPath))
        using (var target = ZipFile.Open(path, ZipArchiveMode.Create))
        {
            foreach (var entry in source.Entries)
            {
                using var stream = entry.Open();
                var data = new byte[entry.Length];
                stream.ReadExactly(data);
                var edited = edit(entry.FullName, data);
                if (edited is null) continue;
                using var output = target.CreateEntry(entry.FullName, CompressionLevel.NoCompression).Open();
                output.Write(edited);
            }
        }
        return path;
    }

    private static CompressException AssertCorrupt(string path)
    {
        var e = Assert.Throws<CompressException>(() => Checkpoint.ReadStateDict(path));
        Assert.Equal(DiagnosticCode.CorruptWeights, e.Code);
        Assert.Equal(path, e.FilePath);
        return e;
    }
}

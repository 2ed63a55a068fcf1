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
    public void Read_ExpandedStrideZeroView_IsRefusedBeforeItIsMaterialised()
    {
        byte[] pickle = ExpandedViewPickle();
        string path = Rewrite("expanded.pt", (entry, data) => entry.EndsWith("data.pkl", StringComparison.Ordinal) ? pickle : data);
        long before = GC.GetTotalAllocatedBytes(precise: true);

        var e = AssertCorrupt(path);

        Assert.Contains("tensor 'w' (shape [20000, 20000], stride [0, 0]) has 400000000 elements", e.Message, StringComparison.Ordinal);
        Assert.Contains("expanded (stride-0)", e.Message, StringComparison.Ordinal);
        Assert.True(GC.GetTotalAllocatedBytes(precise: true) - before < 100_000_000, "refused before gathering");
    }

    [Fact]
    public void Read_EntryDeclaringMoreThanDeflateCanProduce_IsRefusedBeforeAllocating()
    {
        // A zip whose data.pkl says it inflates to 2,000,000,000 bytes from a few hundred: the header is patched, the data
        // left as it is (what a zip bomb or a corrupted header looks like).
        string path = Rewrite("bomb.pt", (_, data) => data);
        byte[] bytes = File.ReadAllBytes(path);
        PatchDeclaredSize(bytes, "data.pkl", 2_000_000_000);
        File.WriteAllBytes(path, bytes);

        var e = AssertCorrupt(path);

        Assert.Contains("more than deflate can produce", e.Message, StringComparison.Ordinal);
    }

    /// <summary>Protocol 2 pickle of {'w': torch.zeros(1).expand(20000, 20000)}: strides (0, 0) over one float, 1.6 GB if gathered.</summary>
    internal static byte[] ExpandedViewPickle() =>
        [
            0x80, 0x02, (byte)'}', (byte)'X', 1, 0, 0, 0, (byte)'w',
            (byte)'c', .. "torch._utils\n_rebuild_tensor_v2\n"u8.ToArray(), (byte)'(',
            (byte)'(', (byte)'X', 7, 0, 0, 0, .. "storage"u8.ToArray(), (byte)'c', .. "torch\nFloatStorage\n"u8.ToArray(),
            (byte)'X', 1, 0, 0, 0, (byte)'0', (byte)'X', 3, 0, 0, 0, .. "cpu"u8.ToArray(), (byte)'K', 1, (byte)'t', (byte)'Q',
            (byte)'K', 0, (byte)'J', 0x20, 0x4e, 0, 0, (byte)'J', 0x20, 0x4e, 0, 0, 0x86, (byte)'K', 0, (byte)'K', 0, 0x86, 0x89,
            (byte)'c', .. "collections\nOrderedDict\n"u8.ToArray(), (byte)')', (byte)'R', (byte)'t', (byte)'R', (byte)'s', (byte)'.',
        ];

    /// <summary>Sets the uncompressed size of the entry ending in <paramref name="suffix"/>, in its local header and in
    /// the central directory.</summary>
    private static void PatchDeclaredSize(byte[] zip, string suffix, uint size)
    {
        byte[] name = System.Text.Encoding.ASCII.GetBytes(suffix);
        for (int i = 0; i + 46 < zip.Length; i++)
        {
            uint signature = BitConverter.ToUInt32(zip, i);
            int nameAt, nameLength, sizeAt;
            if (signature == 0x04034b50) (nameLength, nameAt, sizeAt) = (BitConverter.ToUInt16(zip, i + 26), i + 30, i + 22);
            else if (signature == 0x02014b50) (nameLength, nameAt, sizeAt) = (BitConverter.ToUInt16(zip, i + 28), i + 46, i + 24);
            else continue;
            if (nameAt + nameLength > zip.Length || !zip.AsSpan(nameAt, nameLength).EndsWith(name)) continue;
            BitConverter.TryWriteBytes(zip.AsSpan(sizeAt, 4), size);
        }
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

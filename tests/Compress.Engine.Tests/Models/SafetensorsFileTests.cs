using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using Compress.Engine.Diagnostics;
using Compress.Engine.Models;

namespace Compress.Engine.Tests.Models;

public sealed class SafetensorsFileTests : IDisposable
{
    // "w": F32 [2, 2] = 1, 2, 3, 4 (16 bytes); "n": I64 [] = 42 (8 bytes); data section 24 bytes.
    private const string GoodHeader =
        """{"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},"n":{"dtype":"I64","shape":[],"data_offsets":[16,24]}}""";

    private readonly string _dir = Directory.CreateTempSubdirectory("compress-safetensors-tests-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void ReadSafetensors_HandWrittenFile_DecodesValues()
    {
        string path = Write(GoodHeader, GoodData());
        var tensors = Checkpoint.ReadSafetensors(path);
        Assert.Equal(["w", "n"], tensors.Keys);
        Assert.Equal([2L, 2L], tensors["w"].Shape);
        Assert.Equal([1f, 2f, 3f, 4f], tensors["w"].ToSingleArray());
        Assert.Empty(tensors["n"].Shape);
        Assert.Equal("I64", tensors["n"].DType);
        Assert.Equal([42.0], tensors["n"].ToDoubleArray());
    }

    [Fact]
    public void ReadSafetensors_HalfAndBFloat16_DecodeToFloat()
    {
        // F16 1.5 = 0x3E00, F16 -0.25 = 0xB400; BF16 -2.0 = 0xC000, BF16 3.0 = 0x4040.
        byte[] data = [0x00, 0x3E, 0x00, 0xB4, 0x00, 0xC0, 0x40, 0x40];
        string path = Write(
            """{"h":{"dtype":"F16","shape":[2],"data_offsets":[0,4]},"b":{"dtype":"BF16","shape":[2],"data_offsets":[4,8]}}""",
            data);
        var tensors = Checkpoint.ReadSafetensors(path);
        Assert.Equal([1.5f, -0.25f], tensors["h"].ToSingleArray());
        Assert.Equal([-2f, 3f], tensors["b"].ToSingleArray());
    }

    [Fact]
    public void ReadSafetensors_LeNet5Fixture_HasPyTorchKeysAndCount()
    {
        var tensors = Checkpoint.ReadSafetensors(ModelFixtures.LeNet5Safetensors);
        using var json = JsonDocument.Parse(File.ReadAllText(ModelFixtures.LeNet5SafetensorsReference));
        var order = json.RootElement.GetProperty("parameterOrder").EnumerateArray().Select(e => e.GetString()!).ToArray();
        Assert.Equal(order.Order(StringComparer.Ordinal), tensors.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(json.RootElement.GetProperty("parameterCount").GetInt64(), tensors.Values.Sum(t => t.ElementCount));
    }

    [Fact]
    public void ReadSafetensors_TruncatedData_ThrowsCmp0103WithOffsetAndPath()
    {
        string good = Write(GoodHeader, GoodData());
        byte[] bytes = File.ReadAllBytes(good);
        string path = Path.Combine(_dir, "truncated.safetensors");
        File.WriteAllBytes(path, bytes[..^5]);
        var e = AssertCorrupt(path);
        Assert.Contains("'n'", e.Message, StringComparison.Ordinal);
        Assert.Contains($"byte offset {bytes.Length}", e.Message, StringComparison.Ordinal);
        Assert.Contains("truncated", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadSafetensors_HeaderLengthBeyondFile_ThrowsCmp0103AtOffsetZero()
    {
        string path = Path.Combine(_dir, "long-header.safetensors");
        var bytes = new byte[40];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, 1000);
        bytes[8] = (byte)'{';
        File.WriteAllBytes(path, bytes);
        var e = AssertCorrupt(path);
        Assert.Contains("header length 1000 at byte offset 0", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadSafetensors_ShorterThanEightBytes_ThrowsCmp0103()
    {
        string path = Path.Combine(_dir, "tiny.safetensors");
        File.WriteAllBytes(path, [1, 2, 3]);
        var e = AssertCorrupt(path);
        Assert.Contains("3 bytes", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadSafetensors_BadJson_ThrowsCmp0103NearTheBadByte()
    {
        // The stray '!' is header byte 5, file byte 13.
        string path = Write("""{"w":!{"dtype":"F32"}}""", []);
        var e = AssertCorrupt(path);
        Assert.Contains("not valid JSON near byte offset 13", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadSafetensors_HeaderNotAnObject_ThrowsCmp0103()
    {
        var e = AssertCorrupt(Write("[1, 2]", []));
        Assert.Contains("not a JSON object", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadSafetensors_OffsetsBeyondData_ThrowsCmp0103NamingTensor()
    {
        string path = Write(GoodHeader.Replace("[16,24]", "[16,32]", StringComparison.Ordinal), GoodData());
        var e = AssertCorrupt(path);
        Assert.Contains("'n'", e.Message, StringComparison.Ordinal);
        Assert.Contains("data_offsets [16, 32]", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadSafetensors_OffsetsNotMatchingShape_ThrowsCmp0103WithBothSizes()
    {
        string path = Write(GoodHeader.Replace("[0,16]", "[0,12]", StringComparison.Ordinal), GoodData());
        var e = AssertCorrupt(path);
        Assert.Contains("'w'", e.Message, StringComparison.Ordinal);
        Assert.Contains("has 12 bytes", e.Message, StringComparison.Ordinal);
        Assert.Contains("needs 16", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadSafetensors_OverlappingTensors_ThrowsCmp0103()
    {
        string path = Write(GoodHeader.Replace("[16,24]", "[8,16]", StringComparison.Ordinal), GoodData());
        var e = AssertCorrupt(path);
        Assert.Contains("overlap", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadSafetensors_EndBeforeBegin_ThrowsCmp0103()
    {
        string path = Write(GoodHeader.Replace("[0,16]", "[16,0]", StringComparison.Ordinal), GoodData());
        AssertCorrupt(path);
    }

    [Fact]
    public void ReadSafetensors_NegativeDimension_ThrowsCmp0103()
    {
        string path = Write(GoodHeader.Replace("[2,2]", "[-2,-2]", StringComparison.Ordinal), GoodData());
        AssertCorrupt(path);
    }

    [Fact]
    public void ReadSafetensors_UnsupportedDType_ThrowsCmp0108NamingTensor()
    {
        string path = Write(GoodHeader.Replace("\"F32\"", "\"F8_E4M3\"", StringComparison.Ordinal), GoodData());
        var e = Assert.Throws<CompressException>(() => Checkpoint.ReadSafetensors(path));
        Assert.Equal(DiagnosticCode.UnsupportedDType, e.Code);
        Assert.Contains("'w'", e.Message, StringComparison.Ordinal);
        Assert.Contains("F8_E4M3", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadSafetensors_MissingFile_ThrowsCmp0005()
    {
        string path = Path.Combine(_dir, "missing.safetensors");
        var e = Assert.Throws<CompressException>(() => Checkpoint.ReadSafetensors(path));
        Assert.Equal(DiagnosticCode.FileNotFound, e.Code);
        Assert.Equal(path, e.FilePath);
    }

    [Theory]
    [InlineData("key")]
    [InlineData("metadata")]
    public void ReadSafetensors_InvalidUtf8InTheHeader_ThrowsCmp0103WithTheByteOffset(string where)
    {
        // A Latin-1 byte inside a tensor name or a metadata value: not UTF-8, so not JSON.
        string header = where == "key" ? GoodHeader.Replace("\"w\"", "\"w\u00ff\"", StringComparison.Ordinal)
            : "{\"__metadata__\":{\"note\":\"caf\u00ff\"}," + GoodHeader[1..];
        string path = Write(header, GoodData());
        byte[] bytes = File.ReadAllBytes(path);
        // Write encoded U+00FF as UTF-8 (C3 BF); make it the single byte FF instead.
        int at = Array.IndexOf(bytes, (byte)0xC3);
        byte[] broken = [.. bytes[..at], 0xFF, .. bytes[(at + 2)..]];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(broken, System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(bytes) - 1);
        File.WriteAllBytes(path, broken);

        var e = AssertCorrupt(path);

        Assert.Contains($"byte {at} (0xFF)", e.Message, StringComparison.Ordinal);
        Assert.Contains("not valid UTF-8", e.Message, StringComparison.Ordinal);
    }

    private static byte[] GoodData()
    {
        var data = new byte[24];
        for (int i = 0; i < 4; i++) BinaryPrimitives.WriteSingleLittleEndian(data.AsSpan(4 * i), i + 1);
        BinaryPrimitives.WriteInt64LittleEndian(data.AsSpan(16), 42);
        return data;
    }

    private string Write(string header, byte[] data)
    {
        byte[] headerBytes = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + headerBytes.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)headerBytes.Length);
        headerBytes.CopyTo(bytes, 8);
        data.CopyTo(bytes, 8 + headerBytes.Length);
        string path = Path.Combine(_dir, Guid.NewGuid().ToString("N") + ".safetensors");
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static CompressException AssertCorrupt(string path)
    {
        var e = Assert.Throws<CompressException>(() => Checkpoint.ReadSafetensors(path));
        Assert.Equal(DiagnosticCode.CorruptWeights, e.Code);
        Assert.Equal(path, e.FilePath);
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        return e;
    }
}

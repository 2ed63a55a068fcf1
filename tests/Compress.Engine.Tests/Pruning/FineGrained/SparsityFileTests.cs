using System.Text;
using Compress.Engine.Diagnostics;
using Compress.Engine.Pruning.FineGrained;

namespace Compress.Engine.Tests.Pruning.FineGrained;

public sealed class SparsityFileTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("compress-sparsity-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static CompressException ParseFails(string json) =>
        Assert.Throws<CompressException>(() => SparsityFile.Parse("s.json", Encoding.UTF8.GetBytes(json)));

    [Fact]
    public void Parse_ObjectWithCommentsAndTrailingComma_ReadsNamesInFileOrder()
    {
        var result = SparsityFile.Parse("s.json", "\uFEFF{\n  // first conv\n  \"conv1.weight\": 0.5,\n  \"Fc.weight\": 0.9,\n  \"a\": 0,\n}"u8.ToArray());
        Assert.Equal(["conv1.weight", "Fc.weight", "a"], result.Keys);
        Assert.Equal([0.5, 0.9, 0.0], result.Values);
    }

    [Fact]
    public void Parse_MissingComma_ThrowsCmp0752AtTheNextName()
    {
        var e = ParseFails("{\n  \"a\": 0.5\n  \"b\": 0.6\n}");
        Assert.Equal(DiagnosticCode.SparsityFileSyntaxError, e.Code);
        Assert.Equal("s.json", e.FilePath);
        Assert.Equal(3, e.Line);
        Assert.Equal(3, e.Column);
        Assert.StartsWith("s.json(3,3): error CMP0752:", e.Format(), StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_Empty_ThrowsCmp0752()
    {
        Assert.Equal(DiagnosticCode.SparsityFileSyntaxError, ParseFails("  ").Code);
    }

    [Fact]
    public void Parse_TrailingContent_ThrowsCmp0752()
    {
        Assert.Equal(DiagnosticCode.SparsityFileSyntaxError, ParseFails("{\"a\": 0.5} {}").Code);
    }

    [Theory]
    [InlineData("{\n \"a\": \"0.5\"\n}", 2, 7, "a string")]
    [InlineData("{\n \"a\": [0.5]\n}", 2, 7, "an array")]
    [InlineData("{\"a\": {\"b\": 1}}", 1, 7, "an object")]
    [InlineData("{\"a\": null}", 1, 7, "null")]
    public void Parse_ValueNotANumber_ThrowsCmp0753AtTheValue(string json, int line, int column, string what)
    {
        var e = ParseFails(json);
        Assert.Equal(DiagnosticCode.InvalidSparsityFile, e.Code);
        Assert.Equal((line, column), (e.Line, e.Column));
        Assert.Contains($"'a' is {what}", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_RootArray_ThrowsCmp0753()
    {
        var e = ParseFails("[0.5]");
        Assert.Equal(DiagnosticCode.InvalidSparsityFile, e.Code);
        Assert.Equal((1, 1), (e.Line, e.Column));
    }

    [Fact]
    public void Parse_DuplicateName_ThrowsCmp0753AtTheSecond()
    {
        var e = ParseFails("{\"a\": 0.5,\n  \"a\": 0.6}");
        Assert.Equal(DiagnosticCode.InvalidSparsityFile, e.Code);
        Assert.Equal((2, 3), (e.Line, e.Column));
        Assert.Contains("'a' appears twice", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{\"x\": 1.5}", 1, 7)]
    [InlineData("{\n\"x\":\n  -0.25}", 3, 3)]
    [InlineData("{\"é\": 1, \"x\": 1e400}", 1, 15)]
    public void Parse_SparsityOutOfRange_ThrowsCmp0751AtTheValue(string json, int line, int column)
    {
        var e = ParseFails(json);
        Assert.Equal(DiagnosticCode.InvalidLayerSparsity, e.Code);
        Assert.Equal((line, column), (e.Line, e.Column));
        Assert.Contains("'x'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_MissingFile_ThrowsCmp0005()
    {
        var e = Assert.Throws<CompressException>(() => SparsityFile.Load(Path.Combine(_folder, "none.json")));
        Assert.Equal(DiagnosticCode.FileNotFound, e.Code);
    }

    [Fact]
    public void Write_ThenLoad_RoundTripsExactlyWithNamesVerbatimAndNoTempFile()
    {
        string path = Path.Combine(_folder, "sparsity.json");
        var sparsities = new Dictionary<string, double> { ["Layer1.0.conv1.weight"] = 0.7000000000000001, ["fc.weight"] = 0.1, ["z"] = 1 };

        SparsityFile.Write(path, sparsities);

        Assert.Equal(sparsities, SparsityFile.Load(path));
        Assert.Equal(["sparsity.json"], Directory.GetFiles(_folder).Select(Path.GetFileName));
    }
}

namespace Compress.Tasks.Tests;

public class EngineOutputLineTests
{
    [Fact]
    public void Parse_FileLineColumnError_GivesAllParts()
    {
        var line = EngineOutputLine.Parse("a.json(3,7): error CMP0101: x", "compress");
        Assert.True(line.IsDiagnostic);
        Assert.True(line.IsError);
        Assert.Equal("CMP0101", line.Code);
        Assert.Equal("a.json", line.File);
        Assert.Equal(3, line.Line);
        Assert.Equal(7, line.Column);
        Assert.Equal("x", line.Text);
    }

    [Fact]
    public void Parse_ToolOriginWarning_HasNoFile()
    {
        var line = EngineOutputLine.Parse("compress: warning CMP0303: y", "compress");
        Assert.True(line.IsDiagnostic);
        Assert.False(line.IsError);
        Assert.Equal("CMP0303", line.Code);
        Assert.Equal(string.Empty, line.File);
        Assert.Equal(0, line.Line);
        Assert.Equal("y", line.Text);
    }

    [Fact]
    public void Parse_PathWithoutPosition_KeepsFile()
    {
        var line = EngineOutputLine.Parse("/data/w.safetensors: warning CMP0302: zero variance: 3 tensors", "compress");
        Assert.Equal("/data/w.safetensors", line.File);
        Assert.Equal("zero variance: 3 tensors", line.Text);
    }

    [Fact]
    public void Parse_WindowsPathWithRange_KeepsDriveAndEndPosition()
    {
        var line = EngineOutputLine.Parse(@"C:\m\s.json(2,4,2,9): error CMP0602: bad", "compress");
        Assert.Equal(@"C:\m\s.json", line.File);
        Assert.Equal((2, 4, 2, 9), (line.Line, line.Column, line.EndLine, line.EndColumn));
    }

    [Theory]
    [InlineData("epoch 1/3  batch 10/40  512 images/s  ETA 00:01:10")]
    [InlineData("accuracy: 91.2 %")]
    [InlineData("")]
    public void Parse_PlainLine_IsProgress(string text)
    {
        var line = EngineOutputLine.Parse(text, "compress");
        Assert.False(line.IsDiagnostic);
        Assert.Equal(text, line.Text);
    }
}

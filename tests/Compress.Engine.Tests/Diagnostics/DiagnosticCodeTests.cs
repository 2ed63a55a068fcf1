using System.Reflection;
using System.Text.RegularExpressions;
using Compress.Engine.Diagnostics;

namespace Compress.Engine.Tests.Diagnostics;

public partial class DiagnosticCodeTests
{
    private static List<string> CodesInSource() =>
        typeof(DiagnosticCode).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f.IsLiteral).Select(f => (string)f.GetRawConstantValue()!).ToList();

    [Fact]
    public void Codes_AreUniqueAndWellFormed()
    {
        var codes = CodesInSource();
        Assert.Equal(codes.Count, codes.Distinct().Count());
        Assert.All(codes, c => Assert.Matches(CodePattern(), c));
    }

    [Fact]
    public void DiagnosticsDoc_ListsExactlyTheCodesInSource()
    {
        string doc = File.ReadAllText(Path.Combine(RepoPaths.Root, "docs", "diagnostics.md"));
        var documented = TableCode().Matches(doc).Select(m => m.Groups[1].Value).ToHashSet();
        Assert.Equal(CodesInSource().Order(), documented.Order());
    }

    [Fact]
    public void Format_WithFileLineAndColumn_IsTheMsBuildCanonicalForm()
    {
        var d = Diagnostic.Error(DiagnosticCode.UnknownArchitecture, "Unknown architecture 'x'.", "spec.json", "Use resnet18.", 3, 7);
        Assert.Equal("spec.json(3,7): error CMP0101: Unknown architecture 'x'. Use resnet18.", d.Format());
        Assert.Equal("compress: warning CMP0303: Clamped.", Diagnostic.Warning(DiagnosticCode.SafeRateClamped, "Clamped.").Format());
    }

    [GeneratedRegex("^CMP[0-9]{4}$")]
    private static partial Regex CodePattern();

    [GeneratedRegex(@"^\| (CMP[0-9]{4}) \|", RegexOptions.Multiline)]
    private static partial Regex TableCode();

    [Fact]
    public void Format_UserTextWithLineBreaksAndControls_StaysOneLine()
    {
        var d = Diagnostic.Error(DiagnosticCode.InvalidSpecValue, "name \"a\r\nb\u2028c\u0085d\u001be\"", "dir\nx/s.json", "hint\rmore", 2, 3);

        string line = d.Format();

        Assert.Equal("dir x/s.json(2,3): error CMP0622: name \"a\\u000D b\\u2028c\\u0085d\\u001Be\" hint\\u000Dmore", line);
        Assert.Equal("plain", Diagnostic.OneLine("plain"));
        // System.CommandLine lists an option's allowed values with tabs: spaces, not \u0009, in the message.
        Assert.Equal("one of:  'auto'  'nchw'", Diagnostic.OneLine("one of: \t'auto' \t'nchw'"));
    }
}

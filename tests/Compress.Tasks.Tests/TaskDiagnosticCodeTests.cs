using System.Reflection;
using System.Text.RegularExpressions;

namespace Compress.Tasks.Tests;

public partial class TaskDiagnosticCodeTests
{
    private static Dictionary<string, string> TaskCodes() =>
        typeof(TaskDiagnosticCode).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f.IsLiteral).ToDictionary(f => f.Name, f => (string)f.GetRawConstantValue()!);

    [Fact]
    public void Codes_AreInTheTaskRange()
    {
        Assert.All(TaskCodes().Values, code => Assert.InRange(int.Parse(code[3..], System.Globalization.CultureInfo.InvariantCulture), 601, 619));
    }

    [Fact]
    public void Codes_MatchTheEngineDiagnosticCodeSource()
    {
        // The engine assembly drags TorchSharp in, so read its source instead of referencing it.
        var source = File.ReadAllText(Path.Combine(RepoPaths.Root, "src", "Compress.Engine", "Diagnostics", "DiagnosticCode.cs"));
        var engine = SourceConstant().Matches(source).ToDictionary(m => m.Groups[1].Value, m => m.Groups[2].Value);
        foreach (var (name, code) in TaskCodes())
        {
            Assert.True(engine.TryGetValue(name, out var engineCode), $"DiagnosticCode.cs lacks {name}");
            Assert.Equal(code, engineCode);
        }
        // Every engine code in the task's range is one the task knows.
        var taskRange = engine.Values.Where(c => string.CompareOrdinal(c, "CMP0601") >= 0 && string.CompareOrdinal(c, "CMP0619") <= 0);
        Assert.Equal(taskRange.Order(), TaskCodes().Values.Order());
    }

    [Fact]
    public void Codes_AreDocumented()
    {
        var doc = File.ReadAllText(Path.Combine(RepoPaths.Root, "docs", "diagnostics.md"));
        Assert.All(TaskCodes().Values, code => Assert.Contains($"| {code} |", doc, StringComparison.Ordinal));
    }

    [GeneratedRegex(@"public const string (\w+) = ""(CMP[0-9]{4})"";")]
    private static partial Regex SourceConstant();
}

using Compress.Engine.Analysis;
using Compress.Engine.Diagnostics;
using Compress.Engine.Pruning;
using Compress.Engine.Tests.Analysis;

namespace Compress.Engine.Tests.Pruning;

public class PruneRateParserTests
{
    [Theory]
    [InlineData("0.5", 0.5)]
    [InlineData(" 0.25 ", 0.25)]
    [InlineData("0", 0.0)]
    [InlineData("1", 1.0)]
    [InlineData("1e-1", 0.1)]
    [InlineData(".9", 0.9)]
    public void Parse_NumberInUnitInterval_ReturnsFixedRate(string text, double expected)
    {
        var spec = PruneRateParser.Parse(text);

        Assert.Equal(PruneRateKind.Fixed, spec.Kind);
        Assert.Equal(expected, spec.Value);
        Assert.False(spec.NeedsAnalysis);
        Assert.Equal(expected, spec.Resolve(null));
        Assert.Equal(spec, PruneRateParser.Parse(spec.ToString()));
    }

    [Theory]
    [InlineData("knee", PruneRateKind.Knee)]
    [InlineData("KNEE", PruneRateKind.Knee)]
    [InlineData("Safe", PruneRateKind.Safe)]
    [InlineData(" safe ", PruneRateKind.Safe)]
    public void Parse_KneeOrSafe_CaseInsensitive(string text, PruneRateKind kind)
    {
        var spec = PruneRateParser.Parse(text);

        Assert.Equal(kind, spec.Kind);
        Assert.Null(spec.Value);
        Assert.True(spec.NeedsAnalysis);
        Assert.Equal(spec, PruneRateParser.Parse(spec.ToString()));
    }

    [Theory]
    [InlineData("")]
    [InlineData("abc")]
    [InlineData("1.5")]
    [InlineData("-0.1")]
    [InlineData("NaN")]
    [InlineData("Infinity")]
    [InlineData("0,5")]
    [InlineData("50%")]
    [InlineData("kneee")]
    public void Parse_BadText_ThrowsInvalidRateWithHint(string text)
    {
        var e = Assert.Throws<CompressException>(() => PruneRateParser.Parse(text));

        Assert.Equal(DiagnosticCode.InvalidRate, e.Code);
        Assert.Contains("knee", e.Hint, StringComparison.Ordinal);
    }

    [Fact]
    public void Resolve_KneeAndSafe_ReadTheAnalysis()
    {
        using var model = AnalysisTestModels.LoadFixtureLeNet5();
        var analysis = PruneAnalyzer.Analyze(model);

        Assert.Equal(analysis.Knee.Rate, PruneRateParser.Parse("knee").Resolve(analysis));
        Assert.Equal(analysis.SafeRate, PruneRateParser.Parse("safe").Resolve(analysis));
        Assert.Throws<ArgumentNullException>(() => PruneRateParser.Parse("safe").Resolve(null));
    }
}

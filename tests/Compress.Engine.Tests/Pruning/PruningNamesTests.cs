using Compress.Engine.Pruning;
using Compress.Shared;

namespace Compress.Engine.Tests.Pruning;

/// <summary>The names users write are declared once (src/Shared/PruningChoices.cs); the docs must name every one.</summary>
public class PruningNamesTests
{
    public static TheoryData<string> Names => new(PruningChoices.Methods.Concat(PruningChoices.Criteria).Concat(PruningChoices.Scopes)
        .Concat(PruningChoices.Schedules).Concat(PruningChoices.ScheduleShapes).Concat(PruningChoices.Rankings).Distinct());

    [Theory]
    [MemberData(nameof(Names))]
    public void Readme_NamesEveryChoice(string name)
    {
        string readme = File.ReadAllText(Path.Combine(RepoPaths.Root, "README.md"));
        Assert.Contains("`" + name + "`", readme, StringComparison.Ordinal);
    }

    [Fact]
    public void EngineTables_CoverTheSharedNames()
    {
        Assert.True(PruningNames.TablesMatchTheSharedNames());
        Assert.All(PruningChoices.Criteria, c => Assert.Equal(c, PruningNames.Criterion(c).Name));
        Assert.All(PruningChoices.Methods, m => Assert.Equal(m, PruningNames.NameOf(PruningNames.Method(m)!.Value)));
    }
}

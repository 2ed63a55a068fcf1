namespace Compress.Tasks.Tests;

/// <summary>
/// Test classes that run the repository's built engine (src/Compress.Cli/bin) or rebuild it (PackagedConsumerTests packs
/// src/Compress.Package, which builds the engine again and rewrites its files): run one at a time, never side by side,
/// or a pack can rewrite compress.runtimeconfig.json while another test's build starts the engine from it (seen as
/// "Invalid runtimeconfig.json" and as a missing CMP0003 in EngineBuildTests).
/// </summary>
[CollectionDefinition(Name)]
public sealed class RepoOutputs
{
    /// <summary>The collection's name.</summary>
    public const string Name = "repository engine outputs";
}

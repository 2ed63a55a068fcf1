namespace Compress.Tasks;

/// <summary>Marker for the task assembly; the ToolTask arrives with the build-step issue.</summary>
internal static class TaskAssembly
{
    /// <summary>The engine's executable name that the task will start.</summary>
    internal const string EngineExecutable = "compress";
}

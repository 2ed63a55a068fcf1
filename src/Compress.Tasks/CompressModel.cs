using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace Compress.Tasks;

/// <summary>
/// Runs the compress engine (<c>compress run --spec FILE</c>) for each CompressModel item as a separate process and
/// turns its <c>path(line,col): error CMPxxxx: text</c> lines into MSBuild errors and warnings. The task never loads
/// TorchSharp or ONNX Runtime: the engine's native libraries, memory and crashes stay in the child process.
/// </summary>
/// <remarks>
/// Cancellation (Ctrl+C, or Visual Studio's cancel): <see cref="ToolTask.Cancel"/> kills the engine's whole process
/// tree (ToolTask's own behaviour). The engine stages a run's outputs in a hidden folder beside them and moves them in
/// together at the end, so a killed run leaves the previous outputs untouched; the next run removes what it left.
/// </remarks>
public sealed class CompressModel : ToolTask
{
    private string? _currentSpec;
    private ModelRequest? _currentRequest;
    private readonly List<ITaskItem> _results = [];
    private System.Diagnostics.Stopwatch _runClock = new();
    private TimeSpan _lastVisible;

    /// <summary>The CompressModel items: a weights file (.safetensors, .pt, .pth) with metadata, or a spec (.json).</summary>
    [Required]
    public ITaskItem[] Models { get; set; } = [];

    /// <summary>compress.dll (run with <see cref="DotnetHost"/>) or the compress apphost.</summary>
    public string EnginePath { get; set; } = string.Empty;

    /// <summary>The dotnet executable that runs a .dll engine; empty means DOTNET_HOST_PATH, then dotnet on PATH.</summary>
    public string DotnetHost { get; set; } = string.Empty;

    /// <summary>
    /// Folders (';'-separated) the host searches for the engine's package assets: the package ships compress.dll without
    /// libtorch or ONNX Runtime, which come from the consumer's NuGet cache (<c>dotnet exec --additionalprobingpath</c>).
    /// Only for a .dll engine; empty runs <c>dotnet compress.dll</c>.
    /// </summary>
    public string ProbingPaths { get; set; } = string.Empty;

    /// <summary>A folder with a patched libLibTorchSharp.so the engine loads instead of the cache's (COMPRESS_NATIVE_DIR).</summary>
    public string NativeDirectory { get; set; } = string.Empty;

    /// <summary>Default device (cpu, cuda, auto) for items without Device metadata; empty leaves the engine's default.</summary>
    public string Device { get; set; } = string.Empty;

    /// <summary>Default seed for items without Seed metadata.</summary>
    public string Seed { get; set; } = string.Empty;

    /// <summary>Default minimum accuracy in percent; the engine fails the model below it.</summary>
    public string MinAccuracy { get; set; } = string.Empty;

    /// <summary>Default largest accepted accuracy drop in percentage points.</summary>
    public string MaxAccuracyDrop { get; set; } = string.Empty;

    /// <summary>
    /// The project being built ($(MSBuildProjectFullPath)): relative Data paths are resolved against its folder and
    /// diagnostics without a file point at it. Empty falls back to the file holding the task call (the .targets).
    /// </summary>
    public string ProjectFullPath { get; set; } = string.Empty;

    /// <summary>Where &lt;Name&gt;.onnx and &lt;Name&gt;.report.json go.</summary>
    [Required]
    public string OutputDirectory { get; set; } = string.Empty;

    /// <summary>Where the generated specs and the engine's intermediate files go.</summary>
    [Required]
    public string IntermediateDirectory { get; set; } = string.Empty;

    /// <summary>
    /// Where trained baselines are cached, content-addressed, for every configuration and framework of the project
    /// (passed to the engine as --cache-dir); empty leaves the engine's default (under the intermediate folder).
    /// </summary>
    public string CacheDirectory { get; set; } = string.Empty;

    /// <summary>
    /// Seconds of quiet after which a progress line of the engine is logged at high importance, so that a CI log at
    /// default verbosity shows a heartbeat (phase, step, ETA); 0 turns it off. The engine itself repeats its last line
    /// when it has said nothing for half that long.
    /// </summary>
    public string HeartbeatSeconds { get; set; } = "20";

    private int _heartbeat;

    /// <summary>
    /// Folders (';'-separated) the output and intermediate folders must lie in: the project folder and the build's own
    /// output folders. Empty turns the check off (the targets pass it unless CompressAllowOutputOutsideProject=true).
    /// </summary>
    public string AllowedOutputRoots { get; set; } = string.Empty;

    /// <summary>
    /// True: check every item (and the engine, and the folders) and stop, without running anything. The targets call the
    /// task this way once for all models before the per-model runs, so one build lists every model's problems rather
    /// than stopping at the first model's; the per-model runs then repeat the checks without repeating the warnings.
    /// </summary>
    public bool ValidateOnly { get; set; }

    /// <summary>True: the warnings of the checks were already reported by a <see cref="ValidateOnly"/> call.</summary>
    public bool Validated { get; set; }

    /// <summary>The ONNX files the engine was asked to write, one per model (for FileWrites and publishing).</summary>
    [Output]
    public ITaskItem[] OnnxFiles { get; private set; } = [];

    /// <summary>The spec files the engine ran with (generated for weights items, the item itself for .json items).</summary>
    [Output]
    public ITaskItem[] SpecFiles { get; private set; } = [];

    /// <summary>
    /// The engine's result line of each model that ran (Include = the ONNX path, metadata Summary = the line), for the
    /// targets to show where a logger hides messages (the Terminal Logger).
    /// </summary>
    [Output]
    public ITaskItem[] Results { get; private set; } = [];

    /// <inheritdoc />
    protected override string ToolName => IsDll ? "dotnet" : "compress";

    /// <summary>
    /// The engine's stdout carries only its result (one line per model: rate, accuracies, size, where it wrote the ONNX),
    /// which a plain <c>dotnet build</c> shows; progress goes to stderr and shows from <c>-v:n</c>.
    /// </summary>
    protected override MessageImportance StandardOutputLoggingImportance => MessageImportance.High;

    /// <inheritdoc />
    protected override MessageImportance StandardErrorLoggingImportance => MessageImportance.Normal;

    private bool IsDll => EnginePath.EndsWith(".dll", StringComparison.OrdinalIgnoreCase);

    private string ProjectFile => ProjectFullPath.Length > 0 ? ProjectFullPath : BuildEngine?.ProjectFileOfTaskNode ?? string.Empty;

    /// <summary>Validates everything first (reporting every problem), then runs the engine once per model.</summary>
    public override bool Execute()
    {
        YieldDuringToolExecution = true;
        var validator = new ModelValidator(Log, ProjectFile, reportWarnings: !Validated);
        validator.ValidateDefaults(Blank(Device), Blank(Seed), Blank(MinAccuracy), Blank(MaxAccuracyDrop));
        var requests = validator.Validate(Models);
        var engineFound = CheckEngine();
        CheckOutputFolder(OutputDirectory, "CompressOutputDir");
        CheckOutputFolder(IntermediateDirectory, "CompressIntermediateDir");
        if (CacheDirectory.Length > 0) CheckOutputFolder(CacheDirectory, "CompressCacheDir");
        if (!int.TryParse(Blank(HeartbeatSeconds) ?? "20", System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out _heartbeat))
        {
            Log.LogError(null, TaskDiagnosticCode.InvalidMetadataValue, null, ProjectFile, 0, 0, 0, 0,
                "CompressHeartbeatSeconds is '{0}'; use a whole number of seconds (0 turns the heartbeat off).", HeartbeatSeconds);
        }
        if (requests is null || !engineFound || Log.HasLoggedErrors)
        {
            return false;
        }
        if (ValidateOnly)
        {
            return true;
        }

        if (NativeDirectory.Length > 0)
        {
            // LD_LIBRARY_PATH too: libtorch loads some of its libraries (CUDA ones) by plain name at run time.
            var native = Path.GetFullPath(NativeDirectory);
            var libraryPath = Environment.GetEnvironmentVariable("LD_LIBRARY_PATH");
            EnvironmentVariables =
            [
                .. EnvironmentVariables ?? [], "COMPRESS_NATIVE_DIR=" + native,
                "LD_LIBRARY_PATH=" + (string.IsNullOrEmpty(libraryPath) ? native : native + Path.PathSeparator + libraryPath),
            ];
        }
        var outputDirectory = Path.GetFullPath(OutputDirectory);
        var intermediateDirectory = Path.GetFullPath(IntermediateDirectory);
        var onnxFiles = new List<ITaskItem>();
        var specFiles = new List<ITaskItem>();
        foreach (var request in requests)
        {
            _currentRequest = request;
            _currentSpec = request.IsSpec ? request.InputPath : WriteSpec(request, outputDirectory, intermediateDirectory);
            if (_currentSpec is null)
            {
                return false;
            }
            specFiles.Add(new TaskItem(_currentSpec));
            var onnx = new TaskItem(Path.Combine(outputDirectory, request.Name + ".onnx"));
            onnx.SetMetadata("Report", Path.Combine(outputDirectory, request.Name + ".report.json"));
            onnxFiles.Add(onnx);
            _runClock = System.Diagnostics.Stopwatch.StartNew();
            _lastVisible = TimeSpan.Zero;
            Log.LogMessage(MessageImportance.High, "{0}: compressing ({1}); progress every {2} s, all of it with -v:n",
                request.Name, request.IsSpec ? request.InputPath : request.ItemSpec, _heartbeat);
            var succeeded = base.Execute();
            Results = [.. _results];
            if (!succeeded)
            {
                return false;
            }
        }
        OnnxFiles = [.. onnxFiles];
        SpecFiles = [.. specFiles];
        Results = [.. _results];
        return !Log.HasLoggedErrors;
    }

    /// <summary>CMP0609 when <paramref name="folder"/> is outside every allowed root (a build must not write elsewhere).</summary>
    private void CheckOutputFolder(string folder, string property)
    {
        var roots = AllowedOutputRoots.Split([';'], StringSplitOptions.RemoveEmptyEntries)
            .Select(r => r.Trim()).Where(r => r.Length > 0).ToList();
        if (roots.Count == 0 || folder.Length == 0)
        {
            return;
        }
        var full = WithSeparator(Path.GetFullPath(folder));
        var comparison = Path.DirectorySeparatorChar == '\\' ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
        if (roots.Any(root => full.StartsWith(WithSeparator(Path.GetFullPath(root)), comparison)))
        {
            return;
        }
        Log.LogError(null, TaskDiagnosticCode.OutputOutsideProject, null, ProjectFile, 0, 0, 0, 0,
            $"{property} resolves to '{full}', which is outside the project folder and the build's output folders " +
            $"({string.Join(", ", roots.Select(r => WithSeparator(Path.GetFullPath(r))).Distinct(StringComparer.Ordinal))}). " +
            $"Point {property} inside the project or its bin/obj folders, or set CompressAllowOutputOutsideProject=true if writing there is intended.");
    }

    private static string WithSeparator(string path) =>
        path.EndsWith(Path.DirectorySeparatorChar.ToString(), StringComparison.Ordinal) ? path : path + Path.DirectorySeparatorChar;

    /// <inheritdoc />
    protected override string GenerateFullPathToTool() => IsDll ? ResolveDotnetHost() ?? "dotnet" : Path.GetFullPath(EnginePath);

    /// <summary>For a .dll engine, the dll is the host's first argument; the rest goes in the response file.</summary>
    protected override string GenerateCommandLineCommands()
    {
        var commandLine = new CommandLineBuilder();
        if (IsDll)
        {
            var probingPaths = ProbingPaths.Split([';'], StringSplitOptions.RemoveEmptyEntries);
            if (probingPaths.Length > 0)
            {
                commandLine.AppendSwitch("exec");
                foreach (var probingPath in probingPaths)
                {
                    commandLine.AppendSwitchIfNotNull("--additionalprobingpath ", probingPath.Trim());
                }
            }
            commandLine.AppendFileNameIfNotNull(Path.GetFullPath(EnginePath));
        }
        return commandLine.ToString();
    }

    /// <summary><c>run --spec "FILE"</c>; the engine (System.CommandLine) expands the @response file.</summary>
    protected override string GenerateResponseFileCommands()
    {
        var commands = new CommandLineBuilder(quoteHyphensOnCommandLine: false, useNewLineSeparator: true);
        commands.AppendTextUnquoted("run");
        commands.AppendSwitchIfNotNull("--spec ", _currentSpec);
        if (_currentRequest is { IsSpec: true } request)
        {
            // A hand-written spec: its artifacts must land where the targets' Inputs/Outputs expect them.
            commands.AppendSwitchIfNotNull("--artifact-name ", request.Name);
            commands.AppendSwitchIfNotNull("--artifact-dir ", Path.GetFullPath(OutputDirectory));
            commands.AppendSwitchIfNotNull("--intermediate-dir ", Path.GetFullPath(IntermediateDirectory));
        }
        if (_currentRequest is not null)
        {
            // Every file the run read, so the targets rerun this model when one of them changes (and only then).
            commands.AppendSwitchIfNotNull("--dependency-file ", DependencyFile(_currentRequest.Name));
        }
        if (CacheDirectory.Length > 0)
        {
            commands.AppendSwitchIfNotNull("--cache-dir ", Path.GetFullPath(CacheDirectory));
        }
        if (ProjectFullPath.Length > 0)
        {
            // The reports' paths are relative to the project, not to the generated spec in obj/; and the engine confines a
            // spec's own folders to it, unless the project opted out (the targets then pass no allowed roots).
            commands.AppendSwitchIfNotNull("--project-dir ", Path.GetDirectoryName(Path.GetFullPath(ProjectFullPath)));
            if (AllowedOutputRoots.Trim().Length == 0)
            {
                commands.AppendSwitch("--allow-output-outside-project");
            }
        }
        if (_heartbeat > 0)
        {
            commands.AppendSwitchIfNotNull("--heartbeat ", Math.Max(1, _heartbeat / 2).ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        return commands.ToString();
    }

    /// <summary>One line per switch, UTF-8 without BOM (the engine reads it as plain text).</summary>
    protected override Encoding ResponseFileEncoding => new UTF8Encoding(false);

    /// <summary>
    /// Maps canonical diagnostic lines to MSBuild errors and warnings; everything else is progress. A diagnostic without
    /// a file (<c>compress: error ...</c>) is attributed to the project file, as MSBuild does for any task.
    /// </summary>
    protected override void LogEventsFromTextOutput(string singleLine, MessageImportance messageImportance)
    {
        if (singleLine.StartsWith("##vso[", StringComparison.Ordinal))
        {
            // An Azure Pipelines logging command (the report's build summary): the agent reads it from the build's output.
            Log.LogMessage(MessageImportance.High, "{0}", singleLine);
            return;
        }
        var line = EngineOutputLine.Parse(singleLine, "compress");
        if (!line.IsDiagnostic)
        {
            var elapsed = _runClock.Elapsed;
            if (messageImportance == MessageImportance.High)
            {
                // stdout: the model's result line.
                _lastVisible = elapsed;
                Log.LogMessage(MessageImportance.High, "{0}", singleLine);
                if (_currentRequest is not null)
                {
                    var result = new TaskItem(Path.Combine(Path.GetFullPath(OutputDirectory), _currentRequest.Name + ".onnx"));
                    result.SetMetadata("Summary", singleLine);
                    _results.Add(result);
                }
            }
            else if (_heartbeat > 0 && elapsed - _lastVisible >= TimeSpan.FromSeconds(_heartbeat))
            {
                // A heartbeat for default-verbosity logs: at most one line per HeartbeatSeconds.
                _lastVisible = elapsed;
                // Formatted here: message arguments cross to the logging node as plain strings, losing the format.
                Log.LogMessage(MessageImportance.High, "{0}", string.Format(System.Globalization.CultureInfo.InvariantCulture,
                    "{0}: [{1:mm\\:ss}] {2}", _currentRequest?.Name, elapsed, singleLine));
            }
            else
            {
                Log.LogMessage(messageImportance, "{0}", singleLine);
            }
        }
        else
        {
            var (file, lineNumber, column, endLine, endColumn, text) = Attribute(line);
            if (line.IsError)
                Log.LogError(null, line.Code, null, file, lineNumber, column, endLine, endColumn, "{0}", text);
            else
                Log.LogWarning(null, line.Code, null, file, lineNumber, column, endLine, endColumn, "{0}", text);
        }
    }

    /// <summary>
    /// Where a diagnostic belongs. A line about the spec the task generated for a weights item points at a file the user
    /// never wrote: it is attributed to the project instead, naming the item (the spec's camelCase keys match the
    /// item's metadata names). Lines without a file also go to the project.
    /// </summary>
    private (string File, int Line, int Column, int EndLine, int EndColumn, string Text) Attribute(EngineOutputLine line)
    {
        if (line.File.Length == 0) return (ProjectFile, line.Line, line.Column, line.EndLine, line.EndColumn, line.Text);
        if (_currentRequest is { IsSpec: false } request && _currentSpec is not null && SamePath(line.File, _currentSpec))
            return (ProjectFile, 0, 0, 0, 0, $"CompressModel '{request.ItemSpec}': {line.Text}");
        return (line.File, line.Line, line.Column, line.EndLine, line.EndColumn, line.Text);
    }

    private static bool SamePath(string a, string b)
    {
        try
        {
            return string.Equals(Path.GetFullPath(a), Path.GetFullPath(b), StringComparison.Ordinal);
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    /// <summary>A non-zero exit fails the task; the generic error is only added when the engine reported none.</summary>
    protected override bool HandleTaskExecutionErrors()
    {
        if (!Log.HasLoggedErrors)
        {
            Log.LogError(null, TaskDiagnosticCode.EngineFailed, null, ProjectFile, 0, 0, 0, 0,
                "The compress engine exited with code {0} for '{1}' without reporting an error. Run the logged command line to see its output.",
                ExitCode, _currentSpec);
        }
        return false;
    }

    private bool CheckEngine()
    {
        if (EnginePath.Length == 0 || !File.Exists(EnginePath))
        {
            Log.LogError(null, TaskDiagnosticCode.EngineNotFound, null, ProjectFile, 0, 0, 0, 0,
                "The compress engine was not found at '{0}'. Set CompressEnginePath to compress.dll or the compress executable (a restore of the Compress package provides it).",
                EnginePath);
            return false;
        }
        if (IsDll && ResolveDotnetHost() is null)
        {
            Log.LogError(null, TaskDiagnosticCode.EngineNotFound, null, ProjectFile, 0, 0, 0, 0,
                "The dotnet host '{0}' that runs '{1}' was not found. Set CompressDotnetHost to the dotnet executable.",
                DotnetHost.Length == 0 ? "dotnet" : DotnetHost, EnginePath);
            return false;
        }
        return true;
    }

    private string? ResolveDotnetHost() => Engine.DotnetCommand.Resolve(DotnetHost);

    private string? WriteSpec(ModelRequest request, string outputDirectory, string intermediateDirectory)
    {
        var path = Path.Combine(intermediateDirectory, request.Name + ".spec.json");
        var text = SpecJson.Write(request, outputDirectory, intermediateDirectory);
        try
        {
            Directory.CreateDirectory(intermediateDirectory);
            // Rewrite only when it changed, so the file's time stamp means something; temp file then move, so a
            // cancelled build never leaves half a spec.
            if (!File.Exists(path) || File.ReadAllText(path) != text)
            {
                var temp = path + ".tmp";
                File.WriteAllText(temp, text, new UTF8Encoding(false));
                if (File.Exists(path))
                {
                    File.Delete(path);
                }
                File.Move(temp, path);
            }
            return path;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Log.LogError(null, "CMP0004", null, path, 0, 0, 0, 0, "Could not write the spec '{0}': {1} Check the folder is writable.", path, e.Message);
            return null;
        }
    }

    /// <summary>The engine's list of the files a model's run read: &lt;IntermediateDirectory&gt;/&lt;Name&gt;.inputs.</summary>
    private string DependencyFile(string name) => Path.Combine(Path.GetFullPath(IntermediateDirectory), name + ".inputs");

    private static string? Blank(string value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}

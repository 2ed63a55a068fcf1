namespace Compress.Engine.Diagnostics;

/// <summary>
/// Every stable user-facing code in one place. The list with explanations lives in docs/diagnostics.md; a test checks
/// that both agree. Ranges: 00xx general, 01xx models and weights, 02xx data, 03xx analysis and pruning,
/// 04xx training, 05xx export, 06xx build step, 07xx layer-wise pruning
/// (CMP0750-CMP0769 fine-grained pruning and the sensitivity scan).
/// </summary>
public static class DiagnosticCode
{
    /// <summary>Unknown or invalid command-line option or value.</summary>
    public const string InvalidOption = "CMP0001";
    /// <summary>The native TorchSharp/libtorch library could not be loaded.</summary>
    public const string NativeLoadFailed = "CMP0002";
    /// <summary>CUDA was requested but is not available.</summary>
    public const string CudaUnavailable = "CMP0003";
    /// <summary>An output file could not be written.</summary>
    public const string OutputWriteFailed = "CMP0004";
    /// <summary>An input file or folder does not exist.</summary>
    public const string FileNotFound = "CMP0005";
    /// <summary>The operation was cancelled (Ctrl+C, SIGTERM, MSBuild cancel).</summary>
    public const string Cancelled = "CMP0006";
    /// <summary>An internal error: an exception the engine did not expect (a bug; reported without a stack trace unless COMPRESS_DEBUG=1).</summary>
    public const string InternalError = "CMP0007";

    /// <summary>Unknown model architecture name.</summary>
    public const string UnknownArchitecture = "CMP0101";
    /// <summary>Invalid model option (width multiplier, class count).</summary>
    public const string InvalidModelOption = "CMP0102";
    /// <summary>Weights file is corrupt or not in a supported format.</summary>
    public const string CorruptWeights = "CMP0103";
    /// <summary>Weights file lacks keys the architecture needs.</summary>
    public const string MissingKeys = "CMP0104";
    /// <summary>Weights file has keys the architecture does not know.</summary>
    public const string UnexpectedKeys = "CMP0105";
    /// <summary>A tensor in the weights file has the wrong shape.</summary>
    public const string ShapeMismatch = "CMP0106";
    /// <summary>Weights contain NaN or infinity.</summary>
    public const string NonFiniteWeights = "CMP0107";
    /// <summary>A tensor has an unsupported element type.</summary>
    public const string UnsupportedDType = "CMP0108";
    // 0110-0119: ONNX import (an .onnx file as the model).
    /// <summary>ONNX import: an op (or an attribute or input of it) the importer does not support; names the op, the
    /// node and its inputs, lists the model's op histogram and the supported ops.</summary>
    public const string UnsupportedOnnxOp = "CMP0110";
    /// <summary>ONNX import: the model uses control flow (If, Loop, Scan), which a CNN classifier import cannot train.</summary>
    public const string OnnxControlFlow = "CMP0111";
    /// <summary>ONNX import: a weight or the input is not float32.</summary>
    public const string OnnxNonFloatWeights = "CMP0112";
    /// <summary>ONNX import: the model keeps tensors in external data files.</summary>
    public const string OnnxExternalData = "CMP0113";
    /// <summary>ONNX import: the imported graph's logits in TorchSharp differ from ONNX Runtime's on the original file.</summary>
    public const string OnnxImportMismatch = "CMP0114";
    /// <summary>ONNX import: the model's opset is outside 11 to 21.</summary>
    public const string UnsupportedOnnxOpset = "CMP0115";

    /// <summary>Dataset folder or files missing.</summary>
    public const string DatasetNotFound = "CMP0201";
    /// <summary>Dataset file truncated (size not a whole number of records, or shorter than its header says).</summary>
    public const string DatasetTruncated = "CMP0202";
    /// <summary>Dataset file malformed (bad magic number, label out of range, wrong dimensions).</summary>
    public const string DatasetMalformed = "CMP0203";
    /// <summary>An image could not be decoded.</summary>
    public const string ImageDecodeFailed = "CMP0204";
    /// <summary>Dataset does not fit the model (channels, size or class count).</summary>
    public const string DatasetModelMismatch = "CMP0205";
    /// <summary>A dataset split (train or test) has no images: nothing to train on, or an accuracy of nothing.</summary>
    public const string EmptyDatasetSplit = "CMP0206";

    /// <summary>Prune rate outside [0, 1] or not a number, 'knee' or 'safe'.</summary>
    public const string InvalidRate = "CMP0301";
    /// <summary>Zero-variance tensors were left out of the kurtosis of kurtoses (warning; error with --strict).</summary>
    public const string ZeroVarianceTensors = "CMP0302";
    /// <summary>The kurtosis modifier exceeded 1 and the safe rate was clamped to the knee (warning).</summary>
    public const string SafeRateClamped = "CMP0303";
    /// <summary>Kurtosis of kurtoses could not be computed (fewer than two usable tensors).</summary>
    public const string KurtosisUndefined = "CMP0304";
    /// <summary>No font was found, so a plot (cosine curve, sensitivity, parameters, histograms) was written without text (warning).</summary>
    public const string PlotWithoutText = "CMP0305";

    /// <summary>Invalid training option (epochs, batch size, learning rate, threads).</summary>
    public const string InvalidTrainingOption = "CMP0401";
    /// <summary>Training diverged (loss became NaN or infinite).</summary>
    public const string TrainingDiverged = "CMP0402";
    /// <summary>Warning: the literal decorrelation variant adds nothing for this model (it only handles kernels with two rows).</summary>
    public const string LiteralDecorrelationInactive = "CMP0403";
    /// <summary>Warning: channels-last was asked for, but a 1x1 strided convolution is too narrow for libtorch's channels-last kernel; training NCHW.</summary>
    public const string ChannelsLastUnsafe = "CMP0404";

    /// <summary>The model graph has a node, module or tensor the ONNX exporter does not support.</summary>
    public const string UnsupportedExportNode = "CMP0501";
    /// <summary>An ONNX graph is structurally invalid (undefined or duplicate value, wrong order, inconsistent shapes).</summary>
    public const string InvalidOnnxGraph = "CMP0502";
    /// <summary>The ONNX model's outputs differ from the TorchSharp model's beyond the tolerance.</summary>
    public const string OnnxParityFailed = "CMP0503";
    /// <summary>A file is not a valid ONNX model, or not an image classifier ([N,C,H,W] float input, [N,classes] output).</summary>
    public const string InvalidOnnxModel = "CMP0504";
    /// <summary>The CUDA execution provider of ONNX Runtime could not be used; CPU was used instead (warning).</summary>
    public const string OrtCudaUnavailable = "CMP0505";
    /// <summary>An ONNX graph cannot be profiled (a Conv, Gemm or BatchNormalization input shape cannot be derived).</summary>
    public const string OnnxGraphUnsupported = "CMP0550";

    // 06xx build step. CMP0601-CMP0619 are raised by the MSBuild task (Compress.Tasks.TaskDiagnosticCode keeps the same
    // values, since the task cannot reference this assembly; a test checks they agree); CMP0620 and up by the engine's
    // spec run and accuracy gate.
    /// <summary>A CompressModel item has metadata the task does not know (warning, with a suggestion).</summary>
    public const string UnknownMetadata = "CMP0601";
    /// <summary>A CompressModel metadata value or task property is invalid (unparsable, out of range, missing).</summary>
    public const string InvalidMetadataValue = "CMP0602";
    /// <summary>A CompressModel item's file or its Data folder does not exist.</summary>
    public const string InputNotFound = "CMP0603";
    /// <summary>The engine (compress.dll or the compress executable) or the dotnet host was not found.</summary>
    public const string EngineNotFound = "CMP0604";
    /// <summary>The engine exited with a non-zero code without reporting an error.</summary>
    public const string EngineFailed = "CMP0605";
    /// <summary>A CompressModel item is not a weights file (.safetensors, .pt, .pth) or a spec (.json).</summary>
    public const string UnsupportedModelFile = "CMP0606";
    /// <summary>Two CompressModel items would write the same output name.</summary>
    public const string DuplicateModelName = "CMP0607";
    /// <summary>Package only: libLibTorchSharp.so is missing from the NuGet cache (raised by build/CompressNative.targets).</summary>
    public const string NativeLibraryNotFound = "CMP0608";
    /// <summary>An output or intermediate folder lies outside the project folder and the build's output folders.</summary>
    public const string OutputOutsideProject = "CMP0609";
    /// <summary>Package only: CompressTorchDevice=cuda or CompressOnnxRuntime=gpu, but that package is not in the NuGet cache.</summary>
    public const string AcceleratorPackageNotFound = "CMP0610";
    /// <summary>Package only: restoring the engine's own packages into the NuGet global packages folder failed.</summary>
    public const string EngineRestoreFailed = "CMP0611";
    /// <summary>Package only: libtorch has no package for this OS and processor (or no CUDA build, when one was asked for).</summary>
    public const string UnsupportedPlatform = "CMP0612";
    /// <summary>A spec file (compress run --spec) is not valid JSON (gives the line and column).</summary>
    public const string SpecSyntaxError = "CMP0620";
    /// <summary>A spec file has a key the engine does not know (warning, with a did-you-mean suggestion).</summary>
    public const string UnknownSpecKey = "CMP0621";
    /// <summary>A spec value has the wrong type or is out of range (gives the key, its line and column).</summary>
    public const string InvalidSpecValue = "CMP0622";
    /// <summary>The gate failed: the ONNX artifact's accuracy is below minAccuracy or dropped more than maxAccuracyDrop or
    /// maxRelativeAccuracyDrop, it is larger than maxBytes or slower than minSpeedup; or no rate of the search passed.</summary>
    public const string AccuracyGateFailed = "CMP0623";
    /// <summary>Warning: the artifact is not smaller or faster than the unpruned model in ONNX Runtime (unstructured zeros); names channel pruning.</summary>
    public const string ArtifactNotSmaller = "CMP0624";
    /// <summary>A file given to <c>compress report</c> is missing, not JSON, or not a build report.</summary>
    public const string InvalidReportFile = "CMP0625";
    /// <summary>A folder a spec names lies outside the spec's folder and the project, without allowOutputOutsideProject.</summary>
    public const string OutputOutsideProjectFolder = "CMP0626";

    // 0701-0729 channel pruning (structured, with physical removal).
    /// <summary>A channel pruning ratio is outside [0, 1) or not a number.</summary>
    public const string InvalidChannelRatio = "CMP0701";
    /// <summary>A layer named for channel pruning (ignored layers, per-layer ratios) is not in the model (with a suggestion).</summary>
    public const string UnknownChannelLayer = "CMP0702";
    /// <summary>A per-group ratio list does not have one ratio per prunable channel group.</summary>
    public const string ChannelRatioCountMismatch = "CMP0703";
    /// <summary>Channel pruning options contradict each other, or a per-layer ratio names a layer whose channels cannot be pruned.</summary>
    public const string InvalidChannelPruningOption = "CMP0704";
    /// <summary>The model graph has a node or shape the channel dependency analysis does not support.</summary>
    public const string UnsupportedChannelGraph = "CMP0705";
    /// <summary>A channel pruning plan (from a file) does not fit the model: other groups, channel counts or indices.</summary>
    public const string ChannelPlanMismatch = "CMP0706";
    /// <summary>A channel pruning plan file cannot be read: missing, not JSON, or not a plan.</summary>
    public const string InvalidChannelPlanFile = "CMP0707";
    /// <summary>A mask plan file is missing, not a mask plan, or does not fit the model.</summary>
    public const string InvalidMaskPlanFile = "CMP0708";
    /// <summary>Invalid dynamic pruning option: variant, target sparsity, mask interval or ramp end.</summary>
    public const string InvalidDynamicPruningOption = "CMP0709";
    // 07xx layer-wise pruning. CMP0750-CMP0769: fine-grained (per-layer) magnitude pruning and the sensitivity scan.
    /// <summary>A per-layer sparsity or --layers names a parameter that is not a prunable conv/linear weight (with a did-you-mean).</summary>
    public const string UnknownPrunableParameter = "CMP0750";
    /// <summary>A per-layer sparsity is not a number in [0, 1] (in a sparsity file: with its line and column).</summary>
    public const string InvalidLayerSparsity = "CMP0751";
    /// <summary>A sparsity file is not valid JSON (gives the line and column).</summary>
    public const string SparsityFileSyntaxError = "CMP0752";
    /// <summary>A sparsity file is valid JSON but not one flat object of parameter names to numbers (root, value type, duplicate name).</summary>
    public const string InvalidSparsityFile = "CMP0753";
    /// <summary>Invalid sensitivity scan or sparsity proposal option (empty sparsity list, batch size, batch limit, accuracy drop, target).</summary>
    public const string InvalidSensitivityOption = "CMP0754";
}

using Microsoft.ML.OnnxRuntime;

namespace Compress.Engine.Benchmark;

/// <summary>
/// One fixed batch size of an <see cref="OrtClassifier"/> with its input and output buffers allocated once and bound
/// to the session (<see cref="OrtIoBinding"/> over <see cref="OrtValue"/>s pinned on managed arrays), so that
/// <see cref="Run"/> allocates nothing: what a timing loop needs. Fill <see cref="Input"/>, call <see cref="Run"/>,
/// read <see cref="Output"/>. Not thread-safe.
/// </summary>
public sealed class OrtBatchRunner : IDisposable
{
    private readonly InferenceSession _session;
    private readonly float[] _input;
    private readonly float[] _output;
    private readonly OrtValue _inputValue;
    private readonly OrtValue _outputValue;
    private readonly OrtIoBinding _binding;
    private readonly RunOptions _runOptions;
    private bool _disposed;

    internal OrtBatchRunner(InferenceSession session, string inputName, string outputName, int batchSize,
        Data.ImageShape shape, int classes)
    {
        _session = session;
        BatchSize = batchSize;
        _input = new float[batchSize * shape.Size];
        _output = new float[batchSize * classes];
        _inputValue = OrtValue.CreateTensorValueFromMemory(_input, [batchSize, shape.Channels, shape.Height, shape.Width]);
        _outputValue = OrtValue.CreateTensorValueFromMemory(_output, [batchSize, classes]);
        _binding = session.CreateIoBinding();
        _binding.BindInput(inputName, _inputValue);
        _binding.BindOutput(outputName, _outputValue);
        _runOptions = new RunOptions();
    }

    /// <summary>Images per run.</summary>
    public int BatchSize { get; }

    /// <summary>The input batch, NCHW float32, <c>BatchSize * C * H * W</c> values; write before <see cref="Run"/>.</summary>
    public Span<float> Input => _input;

    /// <summary>The logits of the last <see cref="Run"/>, <c>BatchSize * classes</c> values, row-major.</summary>
    public ReadOnlySpan<float> Output => _output;

    /// <summary>Runs the model on <see cref="Input"/> into <see cref="Output"/>.</summary>
    public void Run()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _session.RunWithBinding(_runOptions, _binding);
    }

    /// <summary>Releases the binding and the pinned buffers.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _binding.Dispose();
        _runOptions.Dispose();
        _inputValue.Dispose();
        _outputValue.Dispose();
    }
}

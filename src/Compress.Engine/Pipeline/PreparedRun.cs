using Compress.Engine.Data;
using Compress.Engine.Diagnostics;
using Compress.Engine.Models;
using Compress.Engine.Runtime;
using static TorchSharp.torch;

namespace Compress.Engine.Pipeline;

/// <summary>
/// What every job starts with: the device resolved, the thread count set, both data splits loaded, the model created
/// (and its weights loaded) and checked against the data, and the normalisation taken from the training split.
/// </summary>
internal sealed class PreparedRun : IDisposable
{
    private PreparedRun(Device device, DatasetSplits data, ClassifierModel model, Normalization normalization)
    {
        Device = device;
        Data = data;
        Model = model;
        Normalization = normalization;
    }

    public Device Device { get; }
    public DatasetSplits Data { get; }
    public ClassifierModel Model { get; }
    /// <summary>Per-channel statistics of the training split; training and evaluation use the same.</summary>
    public Normalization Normalization { get; }

    public static PreparedRun Start(ModelOptions model, string? weights, DataOptions data, RunOptions run, IDiagnosticSink sink)
    {
        var device = TorchRuntime.Resolve(run.Device, sink);
        TorchRuntime.SetThreads(run.Threads);
        var splits = data.Load(sink);
        var created = ModelLoader.Create(model, weights, device, run.Seed);
        try
        {
            ModelLoader.CheckFits(created, splits.Train);
            return new PreparedRun(device, splits, created, Normalization.FromDataset(splits.Train));
        }
        catch
        {
            created.Dispose();
            throw;
        }
    }

    public void Dispose() => Model.Dispose();
}

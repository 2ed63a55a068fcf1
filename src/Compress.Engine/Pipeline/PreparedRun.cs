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
    private PreparedRun(Device device, DatasetSplits data, ClassifierModel model, Normalization normalization, string normalizationSource)
    {
        Device = device;
        Data = data;
        Model = model;
        Normalization = normalization;
        NormalizationSource = normalizationSource;
    }

    public Device Device { get; }
    public DatasetSplits Data { get; }
    public ClassifierModel Model { get; }
    /// <summary>The input normalisation; training, evaluation and the artifact's contract use the same.</summary>
    public Normalization Normalization { get; }

    /// <summary>How <see cref="Normalization"/> was chosen (<see cref="Preprocessing.NormalizationSource"/>).</summary>
    public string NormalizationSource { get; }

    /// <summary>The preprocessing contract of this run's model and data (written into exported artifacts).</summary>
    public Preprocessing Preprocessing(bool embedded = false) => new(Normalization, NormalizationSource,
        Data.Train.Shape.Channels == 1 ? "L" : "RGB", Model.InputShape.Height, Model.InputShape.Width, Data.ResizeShorterSide,
        Data.Train.ClassNames, embedded);

    public static PreparedRun Start(ModelOptions model, string? weights, DataOptions data, RunOptions run, IDiagnosticSink sink)
    {
        var device = TorchRuntime.Resolve(run.Device, sink);
        TorchRuntime.SetThreads(run.Threads);
        var created = ModelLoader.Create(model, weights, device, run.Seed);
        try
        {
            var input = created.InputShape;
            // Images go to the model's input: always for an imported model (its input size is fixed); for a built-in
            // architecture (size-agnostic) only an image folder's photos, which may have any sizes.
            var splits = data.Load(sink, new ImageShape(input.Channels, input.Height, input.Width), fitEveryKind: created.Origin is not null);
            ModelLoader.CheckFits(created, splits.Train);
            var (normalization, source) = ChooseNormalization(data.Normalize, created, splits.Train);
            sink.Progress($"normalization: {source} (mean {string.Join(", ", normalization.Mean.Select(F))}; std {string.Join(", ", normalization.Std.Select(F))})");
            return new PreparedRun(device, splits, created, normalization, source);
        }
        catch
        {
            created.Dispose();
            throw;
        }
    }

    /// <summary>The user's choice; else an imported file's own contract; else ImageNet's for an imported 3-channel
    /// model (what torchvision exports expect); else the training split's statistics.</summary>
    private static (Normalization Value, string Source) ChooseNormalization(NormalizationChoice? choice, ClassifierModel model,
        IImageDataset train)
    {
        if (choice is not null) return (choice.Resolve(train), choice.Text);
        if (model.Origin is { } origin)
        {
            // An artifact with embedded preprocessing normalises itself: it takes raw pixel values 0 to 255.
            if (Compress.Engine.Data.Preprocessing.EmbeddedNormalization(origin.Metadata) is not null)
                return (new Normalization(new float[train.Shape.Channels], Enumerable.Repeat(1f / 255, train.Shape.Channels).ToArray()), "model (embedded: raw pixels)");
            if (Compress.Engine.Data.Preprocessing.NormalizationFrom(origin.Metadata) is { } recorded && recorded.Channels == train.Shape.Channels)
                return (recorded, "model");
            if (train.Shape.Channels == 3) return (Normalization.ImageNet, NormalizationChoice.ImageNet.Text);
        }
        return (Normalization.FromDataset(train), NormalizationChoice.Dataset.Text);
    }

    private static string F(float value) => value.ToString("0.####", System.Globalization.CultureInfo.InvariantCulture);

    public void Dispose() => Model.Dispose();
}

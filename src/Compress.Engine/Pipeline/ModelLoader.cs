using Compress.Engine.Data;
using Compress.Engine.Diagnostics;
using Compress.Engine.Models;
using Compress.Engine.Models.Onnx;
using TorchSharp;
using static TorchSharp.torch;

namespace Compress.Engine.Pipeline;

/// <summary>Creates a model (a built-in architecture from a seed, or an imported ONNX file), loads its weights and checks
/// that a dataset fits it.</summary>
public static class ModelLoader
{
    /// <summary>
    /// Creates <paramref name="options"/>'s architecture with <c>torch.manual_seed(seed)</c> (so the initial weights depend
    /// only on the seed), loads <paramref name="weightsPath"/> when given, and moves it to <paramref name="device"/>.
    /// A channel-pruned checkpoint (every layer as wide as the architecture's default or narrower, residual sets
    /// equal) gives a model of the checkpoint's widths (<see cref="ChannelWidths.FitStateDict"/>); any other shape
    /// difference fails with CMP0106 as before.
    /// </summary>
    public static ClassifierModel Create(ModelOptions options, string? weightsPath, Device device, int seed)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.IsOnnx) return CreateImported(options.Architecture, weightsPath, device, seed);
        IReadOnlyDictionary<string, TensorData>? loaded = null;
        if (weightsPath is not null)
        {
            loaded = Checkpoint.ReadStateDict(weightsPath);
            options = ChannelWidths.FitStateDict(options, loaded);
        }
        manual_seed(seed);
        var model = ModelFactory.Create(options);
        try
        {
            if (weightsPath is not null) Checkpoint.Load(model, weightsPath, loaded!);
            model.to(device);
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Imports the ONNX file at <paramref name="path"/> (checked against ONNX Runtime before anything else runs) with its
    /// own weights, or with <paramref name="weightsPath"/>'s (a safetensors or PyTorch file with the same state keys,
    /// e.g. a fine-tuned or channel-pruned checkpoint of this model: tensors narrower than the file's give a model of
    /// the checkpoint's widths, checked through the graph's shape rules).
    /// </summary>
    private static ClassifierModel CreateImported(string path, string? weightsPath, Device device, int seed)
    {
        manual_seed(seed);
        var model = OnnxImporter.Load(path);
        try
        {
            if (weightsPath is not null && Path.GetFullPath(weightsPath) != Path.GetFullPath(path))
            {
                var loaded = Checkpoint.ReadStateDict(weightsPath);
                var resized = model.WithStateShapesOf(loaded, weightsPath);
                if (resized is not null)
                {
                    model.Dispose();
                    model = resized;
                }
                Checkpoint.Load(model, weightsPath, loaded);
            }
            model.to(device);
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>CMP0205 when the images' channels or size or the class count cannot go through the model.</summary>
    public static void CheckFits(ClassifierModel model, IImageDataset data)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(data);
        var input = model.InputShape;
        var shape = data.Shape;
        string? problem = null;
        if (shape.Channels != input.Channels)
            problem = $"the images have {shape.Channels} channel(s) but {model.Options.Architecture} takes {input.Channels}";
        else if (model.Options.Architecture == "lenet5" && (shape.Height != input.Height || shape.Width != input.Width))
            problem = $"the images are {shape.Height}x{shape.Width} but lenet5 takes {input.Height}x{input.Width}";
        else if (data.ClassCount > model.Options.Classes)
            problem = $"the data has {data.ClassCount} classes but the model has {model.Options.Classes} outputs";
        if (problem is not null)
            throw new CompressException(DiagnosticCode.DatasetModelMismatch, $"The dataset does not fit the model: {problem}.",
                data.Source, "Choose a model that matches the data (--model, --classes).");
    }
}

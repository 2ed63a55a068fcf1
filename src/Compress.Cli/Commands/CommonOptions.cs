using System.CommandLine;
using Compress.Engine.Diagnostics;
using Compress.Engine.Models;
using Compress.Engine.Pipeline;
using Compress.Engine.Runtime;

namespace Compress.Cli.Commands;

/// <summary>Options several commands share, declared once.</summary>
internal sealed class CommonOptions
{
    public Option<string> Model { get; } = new("--model", "-m")
    {
        Description = $"The path of an .onnx classifier (its weights come with it), or a built-in architecture: {string.Join(", ", ModelFactory.Architectures)}.",
        DefaultValueFactory = _ => "resnet18-cifar",
    };

    public Option<double> WidthMultiplier { get; } = new("--width-multiplier", "-w")
    {
        Description = "Channel width multiplier (1 = the published widths).",
        DefaultValueFactory = _ => 1.0,
    };

    public Option<int> Classes { get; } = new("--classes")
    {
        Description = "Number of output classes.",
        DefaultValueFactory = _ => 10,
    };

    public Option<string> Weights { get; } = new("--weights")
    {
        Description = "Weights file: safetensors, a PyTorch state_dict (.pt/.pth) or an .onnx file with the same tensor names. " +
            "Required for a built-in architecture; for an .onnx --model it defaults to the model's own weights.",
    };

    public Option<string> Data { get; } = new("--data")
    {
        Description = "Dataset: 'synthetic' (built-in generated CIFAR-style data) or a folder with CIFAR-10 binary, MNIST IDX or train/ and test/ class folders.",
        DefaultValueFactory = _ => "synthetic",
    };

    public Option<string> Normalize { get; } = new("--normalize")
    {
        Description = "Input normalisation: 'dataset' (the training split's statistics), 'imagenet', 'none' (pixels / 255) " +
            "or MEAN/STD per channel, e.g. 0.5,0.5,0.5/0.25,0.25,0.25. Default: an imported model's recorded contract, " +
            "else 'imagenet' for an imported RGB model, else 'dataset'. Recorded in the artifact's metadata.",
    };

    public Option<int> SyntheticTrain { get; } = new("--synthetic-train")
    {
        Description = "Training images of the synthetic dataset.",
        DefaultValueFactory = _ => new Engine.Data.SyntheticDataOptions().TrainCount,
    };

    public Option<int> SyntheticTest { get; } = new("--synthetic-test")
    {
        Description = "Test images of the synthetic dataset.",
        DefaultValueFactory = _ => new Engine.Data.SyntheticDataOptions().TestCount,
    };

    public Option<string> Device { get; } = new("--device")
    {
        Description = "cpu (default), cuda (error when absent) or auto (CUDA when present).",
        DefaultValueFactory = _ => "cpu",
    };

    public Option<int> Threads { get; } = new("--threads")
    {
        Description = "libtorch threads (0 = one per core).",
        DefaultValueFactory = _ => 0,
    };

    public Option<int> Seed { get; } = new("--seed")
    {
        Description = "Seed for initialisation, shuffling and augmentation.",
        DefaultValueFactory = _ => 0,
    };

    public Option<bool> Json { get; } = new("--json")
    {
        Description = "Print one JSON object on stdout instead of a summary.",
    };

    public void AddModel(Command command)
    {
        command.Add(Model);
        command.Add(WidthMultiplier);
        command.Add(Classes);
    }

    public void AddData(Command command)
    {
        command.Add(Data);
        command.Add(Normalize);
        command.Add(SyntheticTrain);
        command.Add(SyntheticTest);
    }

    public void AddRun(Command command)
    {
        command.Add(Device);
        command.Add(Threads);
        command.Add(Seed);
    }

    /// <summary>--weights, or for an ONNX --model the model file itself (its weights come with it).</summary>
    public string WeightsFor(ParseResult r)
    {
        string? weights = r.GetValue(Weights);
        if (weights is not null) return weights;
        string model = r.GetValue(Model)!;
        if (Engine.Models.Onnx.OnnxImporter.IsOnnxPath(model)) return model;
        throw new CompressException(DiagnosticCode.InvalidOption,
            $"--weights is required for the built-in architecture '{model}' (only an .onnx --model brings its own weights).",
            hint: "Pass --weights with a checkpoint (e.g. from 'compress train'), or --model with the path of an .onnx file.");
    }

    public ModelOptions ModelOptions(ParseResult r) => new()
    {
        Architecture = r.GetValue(Model)!,
        WidthMultiplier = r.GetValue(WidthMultiplier),
        Classes = r.GetValue(Classes),
    };

    public DataOptions DataOptions(ParseResult r) => new()
    {
        Source = r.GetValue(Data)!,
        Normalize = r.GetValue(Normalize) is { } normalize ? Engine.Data.NormalizationChoice.Parse(normalize) : null,
        Synthetic = new Engine.Data.SyntheticDataOptions
        {
            TrainCount = Positive(r.GetValue(SyntheticTrain), "--synthetic-train"),
            TestCount = Positive(r.GetValue(SyntheticTest), "--synthetic-test"),
        },
    };

    public RunOptions RunOptions(ParseResult r) => new()
    {
        Device = TorchRuntime.ParseDevice(r.GetValue(Device)!),
        Threads = r.GetValue(Threads),
        Seed = r.GetValue(Seed),
    };

    private static int Positive(int value, string name) => value > 0
        ? value
        : throw new CompressException(DiagnosticCode.InvalidOption, $"{name} must be positive (got {value}).");
}

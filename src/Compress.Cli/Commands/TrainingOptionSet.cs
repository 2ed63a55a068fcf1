using System.CommandLine;
using Compress.Engine.Pruning;
using Compress.Engine.Training;

namespace Compress.Cli.Commands;

/// <summary>SGD and schedule options, declared once with a prefix (train: none; prune: "finetune-").</summary>
internal sealed class TrainingOptionSet
{
    public TrainingOptionSet(string prefix, TrainingOptions defaults)
    {
        Defaults = defaults;
        Epochs = new($"--{prefix}epochs") { Description = "Epochs.", DefaultValueFactory = _ => defaults.Epochs };
        BatchSize = new($"--{prefix}batch-size") { Description = "Batch size.", DefaultValueFactory = _ => defaults.BatchSize };
        LearningRate = new($"--{prefix}lr") { Description = "SGD learning rate.", DefaultValueFactory = _ => defaults.Sgd.LearningRate };
        Momentum = new($"--{prefix}momentum") { Description = "SGD momentum.", DefaultValueFactory = _ => defaults.Sgd.Momentum };
        WeightDecay = new($"--{prefix}weight-decay") { Description = "L2 weight decay.", DefaultValueFactory = _ => defaults.Sgd.WeightDecay };
        Nesterov = new($"--{prefix}nesterov") { Description = "Nesterov momentum.", DefaultValueFactory = _ => defaults.Sgd.Nesterov };
        Cosine = new($"--{prefix}cosine") { Description = "Cosine learning-rate schedule to 0.", DefaultValueFactory = _ => defaults.CosineSchedule };
        Warmup = new($"--{prefix}warmup-steps") { Description = "Steps of linear learning-rate warm-up.", DefaultValueFactory = _ => defaults.WarmupSteps };
        NoAugment = new($"--{prefix}no-augment") { Description = "Turn off random crop and flip." };
        MemoryFormat = new($"--{prefix}memory-format")
        {
            Description = "Memory layout while training: auto (channels-last for wide convolutions), nchw or channels-last.",
            DefaultValueFactory = _ => PruningNames.NameOf(defaults.MemoryFormat),
        };
        MemoryFormat.AcceptOnlyFromAmong([.. PruningNames.MemoryFormats]);
        Precision = new($"--{prefix}precision")
        {
            Description = "Arithmetic while training: float32, or bfloat16 (mixed, float32 master weights; fast only with AVX512-BF16/AMX).",
            DefaultValueFactory = _ => PruningNames.NameOf(defaults.Precision),
        };
        Precision.AcceptOnlyFromAmong([.. PruningNames.Precisions]);
    }

    public TrainingOptions Defaults { get; }
    public Option<int> Epochs { get; }
    public Option<int> BatchSize { get; }
    public Option<double> LearningRate { get; }
    public Option<double> Momentum { get; }
    public Option<double> WeightDecay { get; }
    public Option<bool> Nesterov { get; }
    public Option<bool> Cosine { get; }
    public Option<int> Warmup { get; }
    public Option<bool> NoAugment { get; }
    public Option<string> MemoryFormat { get; }
    public Option<string> Precision { get; }

    public void AddTo(Command command)
    {
        foreach (var o in new Option[] { Epochs, BatchSize, LearningRate, Momentum, WeightDecay, Nesterov, Cosine, Warmup, NoAugment, MemoryFormat, Precision })
            command.Add(o);
    }

    public TrainingOptions Read(ParseResult r) => Defaults with
    {
        Epochs = r.GetValue(Epochs),
        BatchSize = r.GetValue(BatchSize),
        CosineSchedule = r.GetValue(Cosine),
        WarmupSteps = r.GetValue(Warmup),
        Augment = !r.GetValue(NoAugment),
        MemoryFormat = PruningNames.MemoryFormat(r.GetValue(MemoryFormat)) ?? Engine.Training.MemoryFormat.Auto,
        Precision = PruningNames.Precision(r.GetValue(Precision)) ?? TrainingPrecision.Float32,
        Sgd = new SgdOptions
        {
            LearningRate = r.GetValue(LearningRate),
            Momentum = r.GetValue(Momentum),
            WeightDecay = r.GetValue(WeightDecay),
            Nesterov = r.GetValue(Nesterov),
        },
    };
}

using System.Globalization;
using Compress.Engine.Diagnostics;
using Compress.Engine.Models.Architectures;
using Compress.Engine.Models.Graph;
using Compress.Engine.Pruning.Channels;
using Compress.Engine.Runtime;

namespace Compress.Engine.Models;

/// <summary>Creates the built-in models by name.</summary>
public static class ModelFactory
{
    private static readonly ResNetGraph.Config ResNet18 = new(new InputShape(3, 224, 224), ImageNetStem: true, StemChannels: 64,
        [2, 2, 2, 2], [64, 128, 256, 512]);

    private static readonly ResNetGraph.Config ResNet18Cifar = new(new InputShape(3, 32, 32), ImageNetStem: false, StemChannels: 64,
        [2, 2, 2, 2], [64, 128, 256, 512]);

    private static readonly ResNetGraph.Config ResNet56Cifar = new(new InputShape(3, 32, 32), ImageNetStem: false, StemChannels: 16,
        [9, 9, 9], [16, 32, 64]);

    /// <summary>Every name <see cref="Create"/> accepts, in the order <c>compress models</c> lists them.</summary>
    public static IReadOnlyList<string> Architectures { get; } =
        ["resnet18", "resnet18-cifar", "resnet56-cifar", "vgg-cifar", "lenet5"];

    /// <summary>
    /// Validates <paramref name="options"/> and builds the model on the CPU in float32. Initialisation draws from
    /// torch's global generator only, so the same <c>torch.manual_seed</c> before the call gives the same weights.
    /// </summary>
    /// <exception cref="CompressException">CMP0101 for an unknown architecture (the message lists the known ones);
    /// CMP0102 for a width multiplier that is not a finite number &gt; 0, fewer than 2 classes, or per-layer
    /// <see cref="ModelOptions.Channels"/> that name an unknown layer (with a suggestion), are below 1, or differ
    /// where outputs are added.</exception>
    public static ClassifierModel Create(ModelOptions options)
    {
        var canonical = Canonicalize(options);
        ChannelWidths.Validate(canonical, Layout(canonical));
        var graph = Graph(canonical);
        // Checked on the description, before libtorch allocates anything: an absurd width is a coded error, not an abort.
        double elements = graph.StateShapes.Values.Sum(shape => shape.Aggregate(1.0, (n, d) => n * d));
        if (elements > MaxParameters)
            throw new CompressException(DiagnosticCode.InvalidModelOption, string.Create(CultureInfo.InvariantCulture,
                $"{canonical.Architecture} at width {canonical.WidthMultiplier:R} with {canonical.Classes} classes would have {elements:N0} parameters ({elements * 4 / 1e9:N1} GB), more than the {MaxParameters:N0} this engine builds."),
                hint: "Use a width multiplier such as 0.25, 0.5 or 1 (the published size), and the class count of your data.");

        TorchRuntime.EnsureLoaded();
        var initialization = canonical.Architecture is "vgg-cifar" or "lenet5"
            ? ModelInitialization.TorchDefault
            : ModelInitialization.KaimingNormalFanOut;
        return new ClassifierModel(canonical, Input(canonical), graph, initialization);
    }

    /// <summary>The graph <see cref="Create"/> would build for <paramref name="options"/> (a built-in architecture), with
    /// the same checks, and nothing allocated.</summary>
    internal static ModelGraph GraphOf(ModelOptions options)
    {
        var canonical = Canonicalize(options);
        ChannelWidths.Validate(canonical, Layout(canonical));
        return Graph(canonical);
    }

    /// <summary>The most classes a built-in model may have: 100,000.</summary>
    public const int MaxClasses = 100_000;

    /// <summary>The most parameters a built-in model may have: 2^31 (8.6 GB of float32 weights, before gradients and optimiser state).</summary>
    public const long MaxParameters = 1L << 31;

    /// <summary>The largest width multiplier: 64 (ResNet-18 at width 64 already exceeds <see cref="MaxParameters"/>).</summary>
    public const double MaxWidthMultiplier = 64;

    /// <summary>The natural input of a canonical architecture.</summary>
    internal static InputShape Input(ModelOptions canonical) => canonical.Architecture switch
    {
        "resnet18" => ResNet18.Input,
        "resnet18-cifar" => ResNet18Cifar.Input,
        "resnet56-cifar" => ResNet56Cifar.Input,
        "vgg-cifar" => new InputShape(3, 32, 32),
        "lenet5" => new InputShape(1, 28, 28),
        _ => throw new InvalidOperationException("unreachable: " + canonical.Architecture),
    };

    /// <summary>The graph of a canonical architecture at its options' widths (no TorchSharp needed).</summary>
    internal static ModelGraph Graph(ModelOptions canonical) => canonical.Architecture switch
    {
        "resnet18" => ResNetGraph.Build(ResNet18, canonical),
        "resnet18-cifar" => ResNetGraph.Build(ResNet18Cifar, canonical),
        "resnet56-cifar" => ResNetGraph.Build(ResNet56Cifar, canonical),
        "vgg-cifar" => VggGraph.Build(canonical),
        "lenet5" => LeNet5Graph.Build(canonical),
        _ => throw new InvalidOperationException("unreachable: " + canonical.Architecture),
    };

    /// <summary>
    /// <paramref name="options"/> with the canonical architecture name, after checking the architecture, width
    /// multiplier and class count (not <see cref="ModelOptions.Channels"/>).
    /// </summary>
    internal static ModelOptions Canonicalize(ModelOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.IsOnnx)
            throw new CompressException(DiagnosticCode.UnknownArchitecture,
                $"'{options.Architecture}' is an ONNX file, not a built-in architecture; this step needs one of: {string.Join(", ", Architectures)}.",
                hint: "Imported models are created by ModelLoader (the commands' --model); channel widths apply to built-in architectures.");
        string name = Canonical(options.Architecture);
        if (!double.IsFinite(options.WidthMultiplier) || options.WidthMultiplier <= 0 || options.WidthMultiplier > MaxWidthMultiplier)
            throw new CompressException(DiagnosticCode.InvalidModelOption,
                $"Width multiplier {options.WidthMultiplier.ToString("R", CultureInfo.InvariantCulture)} is not a " +
                $"positive finite number up to {MaxWidthMultiplier.ToString(CultureInfo.InvariantCulture)}.",
                hint: "Use a width multiplier > 0, e.g. 1 for the published size or 0.25 for a quarter of the channels.");
        if (options.Classes > MaxClasses)
            throw new CompressException(DiagnosticCode.InvalidModelOption,
                $"Class count {options.Classes.ToString(CultureInfo.InvariantCulture)} is more than {MaxClasses.ToString(CultureInfo.InvariantCulture)}.",
                hint: "Give the class count of your data (10 for CIFAR-10 and MNIST, 1000 for ImageNet).");
        if (options.Classes < 2)
            throw new CompressException(DiagnosticCode.InvalidModelOption,
                $"Class count {options.Classes.ToString(CultureInfo.InvariantCulture)} is less than 2.",
                hint: "A classifier needs at least 2 classes (10 for CIFAR-10 and MNIST).");
        return options with { Architecture = name };
    }

    /// <summary>
    /// The per-layer widths the canonical architecture of <paramref name="canonical"/> lets one set, derived from its
    /// unpruned graph: every convolution or linear layer that does not write the logits, with its default out
    /// channels, in graph order; and the producers whose outputs are added (one channel group), which must stay equal.
    /// </summary>
    internal static ChannelLayout Layout(ModelOptions canonical)
    {
        var graph = Graph(canonical with { Channels = null });
        var groups = ChannelDependencyAnalyzer.Analyze(graph, graph.StateShapes, Input(canonical));
        var settable = groups.Where(g => g.ExcludedReason?.Contains(ChannelDependencyAnalyzer.LogitsReason, StringComparison.Ordinal) != true)
            .SelectMany(g => g.Producers).ToHashSet(StringComparer.Ordinal);
        var defaults = graph.Nodes.Where(n => n is ConvNode or LinearNode && settable.Contains(n.StatePrefix!))
            .Select(n => new KeyValuePair<string, int>(n.StatePrefix!, checked((int)graph.StateShapes[n.StatePrefix + ".weight"][0])))
            .ToList();
        var tied = groups.Where(g => g.Producers.Count > 1 && g.Producers.All(settable.Contains))
            .Select(g => (IReadOnlyList<string>)g.Producers.ToList()).ToList();
        return new ChannelLayout(defaults, tied);
    }

    private static string Canonical(string? architecture)
    {
        string wanted = (architecture ?? "").Trim();
        foreach (string known in Architectures)
            if (string.Equals(known, wanted, StringComparison.OrdinalIgnoreCase)) return known;
        throw new CompressException(DiagnosticCode.UnknownArchitecture,
            $"Unknown model architecture '{architecture}'. Known architectures: {string.Join(", ", Architectures)}, or the path of an .onnx file.",
            hint: "Pick one of the listed names, or give an ONNX classifier your app already runs (--model models/app.onnx).");
    }
}

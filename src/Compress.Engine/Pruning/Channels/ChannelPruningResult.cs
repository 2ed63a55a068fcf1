using Compress.Engine.Models;

namespace Compress.Engine.Pruning.Channels;

/// <summary>
/// A channel-pruned model and the plan that made it. Owns <see cref="Model"/>: dispose the result, or take the model
/// and dispose it yourself.
/// </summary>
public sealed class ChannelPruningResult : IDisposable
{
    internal ChannelPruningResult(ClassifierModel model, IReadOnlyList<PrunedChannelGroup> groups, long parametersBefore)
    {
        Model = model;
        Groups = groups;
        ParametersBefore = parametersBefore;
        ParametersAfter = model.ParameterCount();
    }

    /// <summary>
    /// The smaller model, built by <see cref="ModelFactory"/> with the new per-layer widths
    /// (<see cref="ModelOptions.Channels"/> of its <see cref="ClassifierModel.Options"/>), on the original model's device
    /// and in its training mode.
    /// </summary>
    public ClassifierModel Model { get; }

    /// <summary>Every channel group in graph order, prunable or excluded (with its reason).</summary>
    public IReadOnlyList<PrunedChannelGroup> Groups { get; }

    /// <summary>Trainable parameters of the original model.</summary>
    public long ParametersBefore { get; }

    /// <summary>Trainable parameters of <see cref="Model"/>.</summary>
    public long ParametersAfter { get; }

    /// <summary>Disposes <see cref="Model"/>.</summary>
    public void Dispose() => Model.Dispose();
}

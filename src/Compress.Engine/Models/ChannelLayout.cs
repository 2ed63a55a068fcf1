namespace Compress.Engine.Models;

/// <summary>
/// What an architecture lets <see cref="ModelOptions.Channels"/> set: every producer module (a convolution, or a hidden
/// linear layer of LeNet-5) with its default out-channel count, in module order, and the sets of producers whose
/// outputs are added (residual connections) and so must keep equal widths.
/// </summary>
/// <param name="Defaults">Producer module name and its out channels when <see cref="ModelOptions.Channels"/> is absent.</param>
/// <param name="Tied">Sets of producers (two or more) whose out channels must be equal.</param>
internal sealed record ChannelLayout(IReadOnlyList<KeyValuePair<string, int>> Defaults, IReadOnlyList<IReadOnlyList<string>> Tied);

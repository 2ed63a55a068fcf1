namespace Compress.Engine.Export;

/// <summary>
/// What compaction did to one Conv or Gemm: its widths before and after, and which original output channels were
/// removed (dead channels). Input widths shrink when an upstream producer lost channels.
/// </summary>
/// <param name="NodeName">The node's name, or <c>OpType#index</c>.</param>
/// <param name="OpType"><c>Conv</c> or <c>Gemm</c>.</param>
/// <param name="WeightName">The weight initializer, named after the PyTorch parameter (e.g. <c>layer1.0.conv1.weight</c>).</param>
/// <param name="OutChannelsBefore">Output channels (Gemm: output features) before compaction.</param>
/// <param name="OutChannelsAfter">Output channels after compaction.</param>
/// <param name="InChannelsBefore">Input channels (Gemm: input features) before compaction.</param>
/// <param name="InChannelsAfter">Input channels after compaction.</param>
/// <param name="RemovedOutputChannels">Original indices of the removed output channels, ascending.</param>
public sealed record CompactedNode(
    string NodeName,
    string OpType,
    string WeightName,
    long OutChannelsBefore,
    long OutChannelsAfter,
    long InChannelsBefore,
    long InChannelsAfter,
    IReadOnlyList<int> RemovedOutputChannels);

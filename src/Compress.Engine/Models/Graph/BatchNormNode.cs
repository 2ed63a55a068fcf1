namespace Compress.Engine.Models.Graph;

/// <summary>
/// BatchNorm over channels in inference form: <c>(x - running_mean) / sqrt(running_var + eps) * weight + bias</c>.
/// </summary>
/// <param name="Name">Node name (the module prefix).</param>
/// <param name="Input">Value read.</param>
/// <param name="Output">Value written.</param>
/// <param name="Module">State-dict prefix, e.g. <c>layer1.0.bn1</c> (keys <c>weight</c>, <c>bias</c>,
/// <c>running_mean</c>, <c>running_var</c>).</param>
/// <param name="Epsilon">The module's <c>eps</c>.</param>
public sealed record BatchNormNode(string Name, string Input, string Output, string Module, double Epsilon)
    : GraphNode(Name, [Input], Output);

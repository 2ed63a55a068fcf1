namespace Compress.Engine.Models.Graph;

/// <summary>A tensor a node holds itself rather than through a TorchSharp module (a layer scale, a bias added by a
/// separate ONNX node), registered on the module tree under its state-dict key.</summary>
/// <param name="Key">State-dict key, e.g. <c>features.1.0.layer_scale</c>.</param>
/// <param name="Trainable">A parameter (true) or a buffer (false).</param>
internal sealed record OwnedTensor(string Key, bool Trainable);

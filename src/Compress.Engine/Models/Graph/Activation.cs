namespace Compress.Engine.Models.Graph;

/// <summary>The element-wise functions of <see cref="ActivationNode"/>.</summary>
public enum Activation
{
    /// <summary><c>1 / (1 + exp(-x))</c>.</summary>
    Sigmoid,

    /// <summary><c>clamp(alpha x + beta, 0, 1)</c> (ONNX HardSigmoid; PyTorch's is alpha 1/6, beta 0.5).</summary>
    HardSigmoid,

    /// <summary><c>x * clamp(x / 6 + 0.5, 0, 1)</c>.</summary>
    HardSwish,

    /// <summary><c>clamp(x, alpha, beta)</c> (ReLU6 is 0, 6).</summary>
    Clip,

    /// <summary><c>x * sigmoid(x)</c> (SiLU, Swish).</summary>
    Silu,

    /// <summary><c>x / 2 * (1 + erf(x / sqrt 2))</c> (exact GELU).</summary>
    Gelu,

    /// <summary><c>tanh(x)</c>.</summary>
    Tanh,

    /// <summary>The error function.</summary>
    Erf,

    /// <summary>Square root.</summary>
    Sqrt,
}

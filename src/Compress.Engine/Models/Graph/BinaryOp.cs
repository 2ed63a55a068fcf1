namespace Compress.Engine.Models.Graph;

/// <summary>The element-wise operations of <see cref="BinaryNode"/> (ONNX's, with NumPy broadcasting).</summary>
public enum BinaryOp
{
    /// <summary><c>a + b</c>.</summary>
    Add,

    /// <summary><c>a - b</c>.</summary>
    Sub,

    /// <summary><c>a * b</c>; one MAC per output element (torchprofile's <c>aten::mul</c>).</summary>
    Mul,

    /// <summary><c>a / b</c>.</summary>
    Div,

    /// <summary><c>a ^ b</c>.</summary>
    Pow,
}

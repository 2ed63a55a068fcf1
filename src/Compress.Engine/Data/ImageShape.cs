using System.Globalization;

namespace Compress.Engine.Data;

/// <summary>
/// The size of one image as channels, height and width (CHW, PyTorch's layout), so that a model's input layer and a
/// dataset can be checked against each other before any training starts.
/// </summary>
/// <param name="Channels">Colour channels: 3 for RGB, 1 for greyscale.</param>
/// <param name="Height">Rows of pixels.</param>
/// <param name="Width">Columns of pixels.</param>
public sealed record ImageShape(int Channels, int Height, int Width)
{
    /// <summary>Number of values in one image (<c>Channels * Height * Width</c>).</summary>
    public int Size => Channels * Height * Width;

    /// <summary><c>3x32x32</c>: the form used in messages.</summary>
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{Channels}x{Height}x{Width}");
}

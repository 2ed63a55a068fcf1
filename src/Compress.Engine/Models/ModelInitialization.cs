namespace Compress.Engine.Models;

/// <summary>How <see cref="ClassifierModel"/> initialises weights after creating its modules.</summary>
public enum ModelInitialization
{
    /// <summary>PyTorch's defaults of each module (Kaiming-uniform convolutions and linear layers, BN 1 and 0).</summary>
    TorchDefault,

    /// <summary>torchvision's ResNet rule: every convolution redrawn Kaiming-normal, fan-out, ReLU gain.</summary>
    KaimingNormalFanOut,
}

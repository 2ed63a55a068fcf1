namespace Compress.Engine.Runtime;

/// <summary>What the user asked for: CPU (default), CUDA (error when absent), or auto (CUDA when present).</summary>
public enum DeviceKind
{
    Cpu,
    Cuda,
    Auto,
}

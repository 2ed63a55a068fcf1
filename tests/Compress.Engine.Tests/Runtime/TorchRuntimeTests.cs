using Compress.Engine.Runtime;
using TorchSharp;

namespace Compress.Engine.Tests.Runtime;

public class TorchRuntimeTests
{
    [Fact]
    public void EnsureLoaded_FreshBuild_LoadsLibTorchAndComputes()
    {
        TorchRuntime.EnsureLoaded();
        using var a = torch.tensor(new float[] { 1, 2, 3 });
        using var s = a.sum();
        Assert.Equal(6f, s.item<float>());
    }

    [Fact]
    public void Resolve_Cpu_ReturnsCpuDevice()
    {
        var device = TorchRuntime.Resolve(DeviceKind.Cpu);
        Assert.Equal(DeviceType.CPU, device.type);
    }
}

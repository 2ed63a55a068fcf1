using Compress.Engine.Diagnostics;
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

    [Fact]
    public void Resolve_CudaWithoutCuda_ThrowsCmp0003NotACrash()
    {
        if (TorchRuntime.CudaAvailable()) return; // GPU machines take the CUDA path; covered by the trait-tagged GPU tests
        var e = Assert.Throws<CompressException>(() => TorchRuntime.Resolve(DeviceKind.Cuda));
        Assert.Equal(DiagnosticCode.CudaUnavailable, e.Code);
        Assert.Contains("--device cpu", e.Format(), StringComparison.Ordinal);
    }

    [Fact]
    public void Resolve_AutoWithoutCuda_WarnsAndFallsBackToCpu()
    {
        if (TorchRuntime.CudaAvailable()) return;
        var sink = new CollectingSink();
        var device = TorchRuntime.Resolve(DeviceKind.Auto, sink);
        Assert.Equal(DeviceType.CPU, device.type);
        var warning = Assert.Single(sink.Diagnostics);
        Assert.Equal((DiagnosticSeverity.Warning, DiagnosticCode.CudaUnavailable), (warning.Severity, warning.Code));
    }

    [Theory]
    [InlineData("cpu", DeviceKind.Cpu)]
    [InlineData("CUDA", DeviceKind.Cuda)]
    [InlineData(" auto ", DeviceKind.Auto)]
    public void ParseDevice_KnownNames_Parse(string text, DeviceKind expected) =>
        Assert.Equal(expected, TorchRuntime.ParseDevice(text));

    [Fact]
    public void ParseDevice_UnknownName_ThrowsCmp0001() =>
        Assert.Equal(DiagnosticCode.InvalidOption, Assert.Throws<CompressException>(() => TorchRuntime.ParseDevice("tpu")).Code);

    [Fact]
    public void SetThreads_One_SetsLibTorchThreadsAndNegativeIsCmp0001()
    {
        int before = torch.get_num_threads();
        try
        {
            TorchRuntime.SetThreads(0);
            int libtorchDefault = torch.get_num_threads();
            TorchRuntime.SetThreads(1);
            Assert.Equal(1, torch.get_num_threads());
            Assert.Equal(DiagnosticCode.InvalidOption, Assert.Throws<CompressException>(() => TorchRuntime.SetThreads(-2)).Code);
            // 0 is libtorch's default again, not whatever an earlier job of the process set (results depend on the count).
            TorchRuntime.SetThreads(0);
            Assert.Equal(libtorchDefault, torch.get_num_threads());
        }
        finally
        {
            torch.set_num_threads(before);
        }
    }
}

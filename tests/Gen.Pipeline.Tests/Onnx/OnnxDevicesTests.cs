// Device and engine choice (docs/deploy.md §4–§5) as pure functions of the offered providers and the
// operating system, so the DirectML and CUDA rules are tested here although this machine has neither.
using Gen.Pipeline;
using Gen.Pipeline.Onnx;

namespace Gen.Pipeline.Tests.Onnx;

public sealed class OnnxDevicesTests
{
    private static readonly HashSet<string> CpuOnly = [OnnxDevices.Cpu];
    private static readonly HashSet<string> WithCuda = [OnnxDevices.Cpu, OnnxDevices.Cuda];
    private static readonly HashSet<string> WithDml = [OnnxDevices.Cpu, OnnxDevices.DirectML];
    private static readonly HashSet<string> All = [OnnxDevices.Cpu, OnnxDevices.Cuda, OnnxDevices.DirectML];

    [Fact]
    public void Auto_PrefersDirectMlThenCudaThenCpu()
    {
        Assert.Equal("dml", OnnxDevices.Resolve("auto", All, isWindows: true).Name);
        Assert.Equal("cuda", OnnxDevices.Resolve("auto", All, isWindows: false).Name);   // DirectML is Windows-only
        Assert.Equal("cuda", OnnxDevices.Resolve("auto", WithCuda, isWindows: true).Name);
        Assert.Equal("cpu", OnnxDevices.Resolve("auto", WithDml, isWindows: false).Name);
        Assert.Equal("cpu", OnnxDevices.Resolve("auto", CpuOnly, isWindows: true).Name);
        Assert.Equal(OnnxDevices.DirectML, OnnxDevices.Resolve("auto", WithDml, isWindows: true).Provider);
        // Every candidate in order: a GPU provider that cannot start falls through to the next, CPU last.
        Assert.Equal(["dml", "cuda", "cpu"], OnnxDevices.Candidates("auto", All, isWindows: true).Select(d => d.Name));
        Assert.Equal(["cuda", "cpu"], OnnxDevices.Candidates("auto", All, isWindows: false).Select(d => d.Name));
        Assert.Equal(["cpu"], OnnxDevices.Candidates("auto", CpuOnly, isWindows: true).Select(d => d.Name));
        Assert.Equal(["cuda"], OnnxDevices.Candidates("cuda", All, isWindows: false).Select(d => d.Name));   // explicit: no fallback
    }

    [Fact]
    public void ExplicitDevices_NeedTheirProvider_AndDirectMlNeedsWindows()
    {
        Assert.Equal(OnnxDevices.Cpu, OnnxDevices.Resolve("cpu", All, isWindows: false).Provider);
        Assert.Equal(OnnxDevices.Cuda, OnnxDevices.Resolve("cuda", WithCuda, isWindows: false).Provider);
        Assert.Equal(OnnxDevices.DirectML, OnnxDevices.Resolve("dml", WithDml, isWindows: true).Provider);

        var noCuda = Assert.Throws<GenInputException>(() => OnnxDevices.Resolve("cuda", CpuOnly, isWindows: false));
        Assert.Contains("-p:GenOnnxRuntime=cuda", noCuda.Message);
        var linux = Assert.Throws<GenInputException>(() => OnnxDevices.Resolve("dml", All, isWindows: false));
        Assert.Contains("only on Windows", linux.Message);
        var noDml = Assert.Throws<GenInputException>(() => OnnxDevices.Resolve("dml", WithCuda, isWindows: true));
        Assert.Contains("-p:GenOnnxRuntime=directml", noDml.Message);
        Assert.Throws<GenInputException>(() => OnnxDevices.Resolve("tpu", All, isWindows: true));
    }

    [Fact]
    public void ThisBuild_OffersCpu_AndResolvesAutoToAnOfferedProvider()
    {
        Assert.Contains(OnnxDevices.Cpu, OnnxDevices.Offered());
        Assert.Contains(OnnxDevices.Resolve("auto").Provider, OnnxDevices.Offered());
    }

    [Fact]
    public void Engine_AskedForImpliedByAGpuOrTheMeasuredDefault()
    {
        Assert.True(new InferenceSettings("onnx").UsesOnnx("anything"));
        Assert.False(new InferenceSettings("torch").UsesOnnx("denoiser"));
        Assert.True(new InferenceSettings("auto", "cuda").UsesOnnx("feature-extractor-without-default"));
        Assert.Equal(OnnxDevices.DefaultEngine("denoiser") == "onnx", new InferenceSettings().UsesOnnx("denoiser"));
        Assert.False(new InferenceSettings().UsesOnnx("a-role-nobody-measured"));

        Assert.Throws<GenInputException>(() => new InferenceSettings("gpu").Validated());
        Assert.Throws<GenInputException>(() => new InferenceSettings("auto", "metal").Validated());
        var conflict = Assert.Throws<GenInputException>(() => new InferenceSettings("torch", "cuda").Validated());
        Assert.Contains("--engine onnx", conflict.Message);
    }
}

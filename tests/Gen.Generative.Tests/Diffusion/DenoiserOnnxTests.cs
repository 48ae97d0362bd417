// The exported denoiser graph (docs/deploy.md §6) against TorchSharp's EdmPrecond: EDM, conditional
// and LowDiff models (every cascade resolution through the one graph with dynamic height and width),
// only portable operators, and whole sampling runs through ONNX Runtime giving TorchSharp's images.
using Gen.Generative.Diffusion;
using Gen.Pipeline.Checkpoints;
using Gen.Pipeline.Onnx;
using Gen.Pipeline.Onnx.Proto;
using Microsoft.ML.OnnxRuntime;
using static TorchSharp.torch;

namespace Gen.Generative.Tests.Diffusion;

public sealed class DenoiserOnnxTests
{
    /// <summary>Operators every execution provider runs (no GroupNormalization, no fused attention, no contrib ops).</summary>
    private static readonly string[] Portable =
        ["Conv", "Gemm", "MatMul", "Add", "Mul", "Sub", "Div", "Sqrt", "Reciprocal", "Log", "Sin", "Cos", "Sigmoid", "Softmax",
         "Reshape", "Shape", "Transpose", "Gather", "Concat", "ReduceMean", "AveragePool", "Resize", "Identity"];

    private static (DiffusionImageSampler Sampler, string Checkpoint) Saved(TempDir tmp, int labelDim = 0, int[]? cascade = null)
    {
        using var g = new Generator(11);
        var config = Tiny.Config(labelDim, cascade);
        using (var fresh = new DiffusionModel(config, g))
        {
            // Real weights everywhere (the zero-initialised layers would hide errors) and non-trivial GroupNorm affines.
            using (no_grad())
                foreach (var (_, p) in fresh.Net.named_parameters()) p.normal_(0, 0.2, g);
            string kind = config.IsCascade ? DiffusionConfig.LowDiffKind : DiffusionConfig.EdmKind;
            Checkpoint.Save(tmp.File("d.safetensors"), fresh.Net, kind, Gen.Pipeline.Json.Serialize(config, indented: false), 9);
        }
        return (new DiffusionImageSampler(DiffusionModel.Load(tmp.File("d.safetensors"))), tmp.File("d.safetensors"));
    }

    [Theory]
    [InlineData(0, false)]
    [InlineData(3, false)]
    [InlineData(0, true)]
    [InlineData(2, true)]
    public void Export_MatchesTorchSharp_AtEveryResolution(int labelDim, bool cascade)
    {
        using var tmp = new TempDir();
        var (sampler, ckpt) = Saved(tmp, labelDim, cascade ? [2, 4, 8] : null);
        using var _ = sampler;
        OnnxExportReport rep = OnnxModels.Export(sampler, sampler, ckpt, tmp.File("d.onnx"));
        Assert.True(rep.ParityOk, $"max |Δ| {rep.MaxAbsError:G3}");
        Assert.True(rep.MaxAbsError <= 1e-4);

        var model = ModelProto.Parser.ParseFrom(File.ReadAllBytes(tmp.File("d.onnx")));
        Assert.All(model.Graph.Node, n => Assert.Contains(n.OpType, Portable));
        var inputs = model.Graph.Input.Select(i => i.Name).ToArray();
        Assert.Equal(cascade ? (labelDim > 0 ? 6 : 5) : (labelDim > 0 ? 3 : 2), inputs.Length);
        Assert.Equal(["batch", "height", "width"], model.Graph.Input[0].Type.TensorType.Shape.Dim.Where(d => d.DimParam != "").Select(d => d.DimParam));

        // The one graph at each cascade resolution (the LowDiff network runs the same weights at 2², 4², 8²).
        using var session = new InferenceSession(tmp.File("d.onnx"));
        foreach (int r in cascade ? new[] { 2, 4, 8 } : [8])
        {
            using var scope = NewDisposeScope();
            using var g = new Generator((ulong)(100 + r));
            var x = DenoiserOnnx.ParityInputs(sampler.Config, 16, r, g);
            Tensor torch;
            using (no_grad()) torch = DenoiserOnnx.Reference(sampler.Model.Precond, x);
            Tensor onnx = OnnxModels.Run(session, x);
            Assert.Equal(torch.shape, onnx.shape);
            double err = onnx.sub(torch).abs().max().item<float>();
            Assert.True(err <= 1e-4, $"{r}²: max |Δ| {err:G3}");
        }
    }

    [Fact]
    public void Parity_CatchesAWrongGraph()
    {
        // The check can fail: the same model with one GroupNorm's bias changed after export disagrees.
        using var tmp = new TempDir();
        var (sampler, ckpt) = Saved(tmp);
        using var _ = sampler;
        var (bytes, _) = OnnxModels.Build(sampler, sampler, ckpt);
        using (no_grad()) sampler.Model.Net.named_parameters().First(p => p.name.EndsWith("norm1.bias")).parameter.add_(0.01);
        using var session = new InferenceSession(bytes);
        var (maxAbs, _) = OnnxModels.Parity(sampler, session, 16);
        Assert.True(maxAbs > 1e-4, $"a changed bias went unnoticed (max |Δ| {maxAbs:G3})");
    }

    [Theory]
    [InlineData(0, false)]
    [InlineData(3, true)]
    public void Sampling_OnOnnxRuntime_GivesTorchSharpsImages(int labelDim, bool cascade)
    {
        using var tmp = new TempDir();
        var (sampler, ckpt) = Saved(tmp, labelDim, cascade ? [4, 8] : null);
        using var _ = sampler;
        var (bytes, _) = OnnxModels.Build(sampler, sampler, ckpt);
        using var session = new OnnxSession(new InferenceSession(bytes), "test", OnnxDevices.Cpu);
        using var onnx = new OnnxDenoiser(session, sampler.Config);
        var o = new SampleOptions
        {
            StageSteps = cascade ? [6, 4] : [8],
            Guidance = labelDim > 0 ? 1.5 : 1,
            SigmaAug = cascade ? 0.1 : 0,
            Churn = new ChurnOptions { SChurn = 2 },
        };
        long[] seeds = [3, 4, 5, 6, 7];
        var (a, _) = DiffusionSampler.Sample(sampler.Model, seeds, o);
        var (b, stats) = DiffusionSampler.Sample(onnx, seeds, o);
        using (a)
        using (b)
        {
            Assert.Equal(a.shape, b.shape);
            double err = a.sub(b).abs().max().item<float>();
            Assert.True(err <= 1e-3, $"images differ by {err:G3}");
            Assert.Equal(seeds.Length, stats.Images);
        }
    }

    [Fact]
    public void OnnxDenoiser_SplitsLargeBatchesIntoPasses_SameResult()
    {
        using var tmp = new TempDir();
        var (sampler, ckpt) = Saved(tmp, labelDim: 3, cascade: [4, 8]);
        using var _ = sampler;
        var (bytes, _) = OnnxModels.Build(sampler, sampler, ckpt);
        using var session = new OnnxSession(new InferenceSession(bytes), "test", OnnxDevices.Cpu);
        using var whole = new OnnxDenoiser(session, sampler.Config) { MaxBatch = 100 };
        var passes = new OnnxDenoiser(session, sampler.Config) { MaxBatch = 3 };   // 10 rows in passes of 3, 3, 3, 1
        using var scope = NewDisposeScope();
        using var g = new Generator(4);
        var x = DenoiserOnnx.ParityInputs(sampler.Config, 10, 4, g);
        var stage = new CascadeInput(x[DenoiserOnnx.Cond], x[DenoiserOnnx.Stage], x[DenoiserOnnx.SigmaAug]);
        Tensor a = whole.Denoise(x[DenoiserOnnx.X], x[DenoiserOnnx.Sigma], x[DenoiserOnnx.ClassLabels], stage);
        Tensor b = passes.Denoise(x[DenoiserOnnx.X], x[DenoiserOnnx.Sigma], x[DenoiserOnnx.ClassLabels], stage);
        Assert.Equal(a.shape, b.shape);
        Assert.True(a.allclose(b, rtol: 1e-5, atol: 1e-6));
    }

    [Fact]
    public void OnnxDenoiser_RefusesAGraphWhoseInputsDoNotMatchTheConfig()
    {
        using var tmp = new TempDir();
        var (sampler, ckpt) = Saved(tmp, labelDim: 3);
        using var _ = sampler;
        var (bytes, _) = OnnxModels.Build(sampler, sampler, ckpt);
        using var session = new OnnxSession(new InferenceSession(bytes), "cond.onnx", OnnxDevices.Cpu);
        var e = Assert.Throws<Gen.Pipeline.GenInputException>(() => new OnnxDenoiser(session, Tiny.Config()));
        Assert.Contains("class_labels", e.Message);
    }
}

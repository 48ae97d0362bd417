// Sampling from a model: determinism by seed (alone vs inside a batch), classifier-free guidance,
// LowDiff stage costs, output writers, and one-line errors for bad input.
using Gen.Generative.Diffusion;
using Gen.Pipeline;
using Gen.Pipeline.Checkpoints;
using static TorchSharp.torch;

namespace Gen.Generative.Tests.Diffusion;

public sealed class DiffusionSamplerTests
{
    private static DiffusionModel Model(int labelDim = 0, int[]? cascade = null, ulong seed = 3)
    {
        using var g = new Generator(seed);
        var m = new DiffusionModel(Tiny.Config(labelDim, cascade), g);
        // Give the near-zero-initialised output layers real weights so samples depend on the network.
        using (no_grad())
            foreach (var (name, p) in m.Net.named_parameters())
                if (name.Contains("aux_conv") || name.EndsWith("conv1.weight") || name.Contains("proj")) p.normal_(0, 0.1, g);
        m.Net.eval();
        return m;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Sample_SameSeeds_IdenticalBytes_AndSeedAloneMatchesBatch(bool cascade)
    {
        using var m = Model(cascade: cascade ? [4, 8] : null);
        var o = new SampleOptions { StageSteps = cascade ? [5, 3] : [6], Churn = new ChurnOptions { SChurn = 5 } };
        var (a, _) = DiffusionSampler.Sample(m, [10, 11, 12, 13], o);
        var (b, _) = DiffusionSampler.Sample(m, [10, 11, 12, 13], o);
        var (alone, _) = DiffusionSampler.Sample(m, [12], o);
        using (a) using (b) using (alone)
        {
            Assert.Equal(DiffusionSampler.ToBytes(a), DiffusionSampler.ToBytes(b));
            double diff = a[2].sub(alone[0]).abs().max().item<float>();
            Assert.True(diff <= 1e-4, $"seed alone vs in batch differ by {diff}");
            Assert.True(a[0].sub(a[1]).abs().max().item<float>() > 1e-2);
        }
    }

    [Fact]
    public void Sample_SmallBatches_EqualOneBatch()
    {
        using var m = Model();
        var seeds = new List<long> { 1, 2, 3, 4, 5 };
        var (one, _) = DiffusionSampler.Sample(m, seeds, new SampleOptions { StageSteps = [4], Batch = 8 });
        var (many, _) = DiffusionSampler.Sample(m, seeds, new SampleOptions { StageSteps = [4], Batch = 2 });
        using (one) using (many) Assert.True(one.sub(many).abs().max().item<float>() <= 1e-4);
    }

    [Fact]
    public void Guided_GOne_IsConditionalDenoiser_GTwo_Extrapolates()
    {
        using var m = Model(labelDim: 3);
        using var scope = NewDisposeScope();
        using var g = new Generator(1);
        Tensor x = randn([2, 1, 8, 8], ScalarType.Float64, generator: g);
        Tensor lab = nn.functional.one_hot(tensor(new long[] { 1, 2 }), 3).to(ScalarType.Float32);
        Tensor dc = m.Precond.Denoise(x, full([2], 1.5, ScalarType.Float64), lab);
        Tensor du = m.Precond.Denoise(x, full([2], 1.5, ScalarType.Float64), zeros_like(lab));
        Tensor g1 = DiffusionSampler.Guided(m.Precond, lab, null, 1, 2)(x, 1.5);
        Tensor g2 = DiffusionSampler.Guided(m.Precond, lab, null, 2, 2)(x, 1.5);
        Assert.True(g1.allclose(dc, rtol: 0, atol: 1e-12));
        Assert.True(g2.allclose(du.add(dc.sub(du).mul(2)), rtol: 0, atol: 1e-4)); // a 2B batch: float32 rounding differs slightly
        Assert.False(dc.allclose(du, rtol: 0, atol: 1e-6));
    }

    [Fact]
    public void Sample_Conditional_ClassAndGuidance_Run()
    {
        using var m = Model(labelDim: 3);
        var (x, stats) = DiffusionSampler.Sample(m, [0, 1], new SampleOptions { StageSteps = [3], ClassIndex = 2, Guidance = 2 });
        using (x) Assert.True(x.isfinite().all().item<bool>());
        Assert.Equal(10.0, stats.FullResEquivalentNfe); // 5 NFE, two passes each
    }

    [Fact]
    public void Writers_WriteGridFolderAndNpz()
    {
        using var dir = new TempDir();
        using var m = Model();
        var seeds = new List<long> { 7, 8, 9 };
        var (x, _) = DiffusionSampler.Sample(m, seeds, new SampleOptions { StageSteps = [2] });
        using (x)
        {
            SampleWriter.WriteGrid(dir.File("g.png"), x);
            byte[] u8 = DiffusionSampler.ToBytes(x);
            Gen.Pipeline.Imaging.SampleFiles.WriteFolder(dir.File("imgs"), u8, seeds, 1, 6, 6);
            Gen.Pipeline.Imaging.SampleFiles.WriteNpz(dir.File("s.npz"), u8, seeds, 1, 6, 6);
        }
        Assert.True(File.Exists(dir.File("g.png")));
        Assert.True(File.Exists(Path.Combine(dir.File("imgs"), "000008.png")));
        using var zip = System.IO.Compression.ZipFile.OpenRead(dir.File("s.npz"));
        var arr = zip.GetEntry("arr_0.npy")!;
        Assert.Equal(128 + 3 * 6 * 6, arr.Length); // 128-byte NPY header + uint8 data
        using var s = new StreamReader(arr.Open());
        string header = new string(new char[128].Select(_ => (char)s.Read()).ToArray());
        Assert.Contains("'shape': (3, 6, 6, 1)", header);
    }

    public static TheoryData<string, SampleOptions, int, string> BadOptions() => new()
    {
        { "uncond", new SampleOptions { ClassIndex = 1 }, 4, "--class" },
        { "uncond", new SampleOptions { Guidance = 2 }, 4, "--guidance" },
        { "cond", new SampleOptions { ClassIndex = 3 }, 4, "--class 3" },
        { "cond", new SampleOptions { ClassIndex = -1 }, 4, "--class" },
        { "uncond", new SampleOptions(), 0, "--n" },
        { "uncond", new SampleOptions { StageSteps = [8, 4] }, 4, "--steps" },
        { "cascade", new SampleOptions { StageSteps = [8] }, 4, "--stage-steps" },
        { "cascade", new SampleOptions { SigmaStart = 0 }, 4, "--sigma-start" },
        { "uncond", new SampleOptions { StageSteps = [0] }, 4, "step counts" },
    };

    [Theory]
    [MemberData(nameof(BadOptions))]
    public void Validate_BadInput_ThrowsOneLineNamingOption(string kind, SampleOptions o, int n, string fragment)
    {
        var c = kind switch { "cond" => Tiny.Config(labelDim: 3), "cascade" => Tiny.Config(cascade: [4, 8]), _ => Tiny.Config() };
        var e = Assert.Throws<GenInputException>(() => DiffusionSampler.Validate(c, o, n));
        Assert.Contains(fragment, e.Message);
        Assert.DoesNotContain("\n", e.Message);
    }

    [Fact]
    public void Sample_NaNWeights_ThrowsGenInputException()
    {
        using var m = Model();
        using (no_grad()) foreach (var p in m.Net.parameters()) p.fill_(double.NaN);
        var e = Assert.Throws<GenInputException>(() => DiffusionSampler.Sample(m, [0], new SampleOptions { StageSteps = [3] }));
        Assert.Contains("NaN", e.Message);
    }

    [Fact]
    public void Load_OtherKind_ThrowsNamingKind()
    {
        using var dir = new TempDir();
        using var m = Model();
        Checkpoint.Save(dir.File("c.safetensors"), m.Net, "classifier", "{}", 1);
        var e = Assert.Throws<GenInputException>(() => DiffusionModel.Load(dir.File("c.safetensors")));
        Assert.Contains("'classifier'", e.Message);
    }

    [Fact]
    public void Bf16_Sampling_StaysClose()
    {
        using var m = Model();
        var o = new SampleOptions { StageSteps = [6] };
        var (a, _) = DiffusionSampler.Sample(m, [1, 2], o);
        m.ToBFloat16();
        var (b, _) = DiffusionSampler.Sample(m, [1, 2], o);
        using (a) using (b) Assert.True(a.sub(b).abs().max().item<float>() < 0.15);
    }
}

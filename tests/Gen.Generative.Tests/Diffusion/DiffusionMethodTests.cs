// The training method through the real Trainer: finite loss at init, a falling loss over 200 tiny
// steps, LowDiff stages, EMA β of docs/methods/diffusion.md §5.4, and the checkpoint round trip.
using Gen.Generative.Diffusion;
using Gen.Pipeline;
using Gen.Pipeline.Data;
using Gen.Pipeline.Methods;
using Gen.Pipeline.Stages;
using Gen.Pipeline.Training;
using static TorchSharp.torch;

namespace Gen.Generative.Tests.Diffusion;

public sealed class DiffusionMethodTests
{
    internal static TrainConfig TinyTrain(long steps) => new()
    {
        Steps = steps,
        Batch = 16,
        Lr = 2e-3,
        Optimizer = OptimizerKind.Adam,
        WeightDecay = 0,
        Schedule = LrScheduleKind.Constant,
        WarmupSteps = 10,
        EmaHalfLifeImages = 500,
    };

    internal static readonly RunOptions TinyRun = new() { CheckpointEvery = 0, LogEvery = 20, Threads = 1 };

    internal static DiffusionParams TinyParams(int[]? cascade = null, bool conditional = false) => new()
    {
        Data = "squares",
        Width = 16,
        ChannelMult = [1, 1],
        Blocks = 1,
        Cascade = cascade ?? [],
        Conditional = conditional,
        SampleEvery = 0,
        GridN = 4,
    };

    private static Batch MakeBatch(ImageSet data, int n)
    {
        int[] idx = Enumerable.Range(0, n).ToArray();
        return new Batch(Batches.Float(data, idx), Batches.Labels(data, idx), idx);
    }

    [Theory]
    [InlineData(false, DiffusionConfig.PixelsBatch)]
    [InlineData(true, DiffusionConfig.PixelsBatch)]
    [InlineData(true, DiffusionConfig.FixedBatch)]
    public void Step_AtInit_LossIsFinite(bool cascade, string stageBatch)
    {
        var data = TinyData.Squares(64, 6);
        using var g = new Generator(1);
        var config = Tiny.Config(labelDim: 2, cascade: cascade ? [4, 8] : null) with { StageBatch = stageBatch };
        using var method = new DiffusionMethod(config, data, g);
        using var scope = NewDisposeScope();
        for (int step = 0; step < 6; step++)
        {
            using var sg = new Generator((ulong)step);
            var ctx = new StepContext { Step = step, TotalSteps = 6, Lr = 1e-3, ImagesSeen = 0, Generator = sg };
            float loss = method.Step(MakeBatch(data, 8), ctx).Loss.item<float>();
            Assert.True(float.IsFinite(loss) && loss > 0, $"loss {loss}");
        }
    }

    [Fact]
    public void PickStage_FollowsStageProbabilities()
    {
        var c = Tiny.Config(cascade: [2, 4, 8]) with { StageProbs = [0.3, 0.3, 0.4] };
        var counts = new int[3];
        for (int i = 0; i < 3000; i++)
        {
            using var g = new Generator((ulong)i);
            counts[DiffusionMethod.PickStage(c, g)]++;
        }
        Assert.InRange(counts[0], 800, 1000);
        Assert.InRange(counts[2], 1080, 1320);
    }

    [Fact]
    public void StageBatchSize_PixelsScalesByArea_FixedKeepsTheBatch()
    {
        var pixels = Tiny.Config(cascade: [2, 4, 8]);
        Assert.Equal(new long[] { 16 * 16, 4 * 16, 16 }, Enumerable.Range(0, 3).Select(s => pixels.StageBatchSize(s, 16)));
        var fixedBatch = pixels with { StageBatch = DiffusionConfig.FixedBatch };
        Assert.Equal(new long[] { 16, 16, 16 }, Enumerable.Range(0, 3).Select(s => fixedBatch.StageBatchSize(s, 16)));
        Assert.Equal(16, Tiny.Config().StageBatchSize(0, 16));
    }

    [Fact]
    public void StepCostVsBaseline_FixedBatch_IsTheExpectedPixelShare()
    {
        // Two stages at 4² and 8² (full size 8²) picked with 0.6/0.4: 0.6·(4/8)² + 0.4·1 = 0.55; the
        // probabilities are normalised, so 3:2 gives the same.
        var c = Tiny.Config(cascade: [4, 8]) with { StageProbs = [3, 2], StageBatch = DiffusionConfig.FixedBatch };
        Assert.Equal(0.55, c.StepCostVsBaseline(), 12);
        Assert.Equal(1.0, (c with { StageBatch = DiffusionConfig.PixelsBatch }).StepCostVsBaseline());
        Assert.Equal(1.0, Tiny.Config().StepCostVsBaseline());
    }

    [Fact]
    public void Validate_UnknownStageBatch_NamesTheOption()
    {
        var c = Tiny.Config(cascade: [4, 8]) with { StageBatch = "half" };
        Assert.Contains("--stage-batch", Assert.Throws<GenInputException>(c.Validate).Message);
    }

    [Fact]
    public void Prepare_PadsWithMinusOne()
    {
        using Tensor img = ones(1, 1, 6, 6);
        using Tensor x = DiffusionMethod.Prepare(img, Tiny.Config());
        Assert.Equal(new long[] { 1, 1, 8, 8 }, x.shape);
        Assert.Equal(-1f, x[0, 0, 0, 0].item<float>());
        Assert.Equal(1f, x[0, 0, 1, 1].item<float>());
    }

    [Fact]
    public void EmaBeta_Batch128HalfLife5000_MatchesSpec() =>
        Assert.Equal(0.982412, Ema.Beta(128, 5000, 0, 0), 6);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Train200Steps_LossFalls_AndCheckpointSamples(bool cascade)
    {
        using var dir = new TempDir();
        var data = TinyData.Squares(256, 6);
        var stage = new TrainStage(new DiffusionTraining());
        TrainResult result = stage.Train(new TrainRequest(TinyParams(cascade ? [4, 8] : null), TinyTrain(200), TinyRun), dir.Path, resume: false, data: data);
        Assert.Equal(200, result.Step);
        var rows = MetricsLog.Read(dir.File(Trainer.MetricsFile));
        double first = rows.First()["loss"], last = rows.Skip(rows.Count - 3).Average(r => r["loss"]);
        Assert.True(last < 0.8 * first, $"loss {first} → {last}");
        Assert.True(File.Exists(Path.Combine(dir.Path, DiffusionTraining.SamplesDir, "step-00000200.png")));

        using var model = DiffusionModel.Load(dir.Path);
        Assert.Equal(cascade ? DiffusionConfig.LowDiffKind : DiffusionConfig.EdmKind, model.Config.Kind);
        Assert.Equal(200, model.Step);
        var (images, stats) = DiffusionSampler.Sample(model, [0, 1, 2, 3], new SampleOptions { StageSteps = cascade ? [6, 4] : [8] });
        using (images)
        {
            Assert.Equal(new long[] { 4, 1, 6, 6 }, images.shape);
            Assert.True(images.isfinite().all().item<bool>());
            // The squares data is bright in the middle, dark at the border.
            double centre = images.narrow(2, 2, 2).narrow(3, 2, 2).mean().item<float>();
            double border = images.narrow(2, 0, 1).mean().item<float>();
            Assert.True(centre > border + 0.5, $"centre {centre}, border {border}");
        }
        Assert.Equal(cascade ? new[] { 11, 7 } : new[] { 15 }, stats.NfePerStage);
    }

    [Fact]
    public void Checkpoint_RoundTrip_GivesIdenticalDenoiser()
    {
        using var dir = new TempDir();
        var cfg = Tiny.Config(labelDim: 3, cascade: [4, 8]);
        using var g = new Generator(7);
        using var a = new DiffusionModel(cfg, g);
        Gen.Pipeline.Checkpoints.Checkpoint.Save(dir.File("m.safetensors"), a.Net, cfg.Kind, Json.Serialize(cfg, indented: false), 5);
        using var b = DiffusionModel.Load(dir.File("m.safetensors"));
        Assert.Equal(cfg.Cascade, b.Config.Cascade);
        Assert.Equal(3, b.Config.LabelDim);
        using var scope = NewDisposeScope();
        Tensor x = randn([2, 1, 8, 8], generator: g), s = tensor(new float[] { 0.3f, 4f });
        Tensor lab = nn.functional.one_hot(tensor(new long[] { 0, 2 }), 3).to(ScalarType.Float32);
        var st = new CascadeInput(randn([2, 1, 8, 8], generator: g), LowDiffCascade.StageVector(1, 2, zeros(2)), zeros(2));
        a.Net.eval();
        Assert.True(a.Precond.Denoise(x, s, lab, st).allclose(b.Precond.Denoise(x, s, lab, st), rtol: 0, atol: 0));
    }
}

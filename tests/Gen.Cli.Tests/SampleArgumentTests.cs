// `gen sample` argument rules: seed lists and ranges, --n, the split between generic and sampler
// options, the step options of EDM and LowDiff checkpoints, the bundled-checkpoint lookup
// (GEN_ASSETS, then upward from the program), and what is written (grid, one PNG per seed, .npz).
// Sampling runs on the bundled checkpoint with 2 Heun steps, so each case takes about a second.
using System.Text.Json.Nodes;
using Gen.Generative.Diffusion;
using Gen.Pipeline;
using Gen.Pipeline.Checkpoints;
using Gen.Pipeline.Methods;
using Gen.Pipeline.Stages;

namespace Gen.Cli.Tests;

public sealed class SampleArgumentTests
{
    private static readonly SampleStage Stage = new(GenCli.Registry());

    [Theory]
    [InlineData("0-3,10", new long[] { 0, 1, 2, 3, 10 })]
    [InlineData(" 7 , 2 ", new long[] { 7, 2 })]
    [InlineData("-5,-4", new long[] { -5, -4 })]
    [InlineData("9-9", new long[] { 9 })]
    public void ParseSeeds_ListsAndRanges(string text, long[] expected) =>
        Assert.Equal(expected, SampleStage.ParseSeeds(text));

    [Theory]
    [InlineData("a")]
    [InlineData("3-1")]
    [InlineData("1-")]
    [InlineData(",")]
    [InlineData("99999999999999999999")]
    public void ParseSeeds_BadText_NamesTheOption(string text)
    {
        var e = Assert.Throws<GenInputException>(() => SampleStage.ParseSeeds(text));
        Assert.Contains("--seeds", e.Message);
    }

    [Fact]
    public void SeedList_SeedsOverrideSeedAndN_NMustBePositive()
    {
        Assert.Equal(new long[] { 5, 6, 7 }, new SampleParams { Seed = 5, N = 3 }.SeedList());
        Assert.Equal(new long[] { 1, 4 }, new SampleParams { Seed = 5, N = 3, Seeds = "1,4" }.SeedList());
        Assert.Contains("--n", Assert.Throws<GenInputException>(() => new SampleParams { N = 0 }.SeedList()).Message);
    }

    [Fact]
    public void Split_SeparatesSamplerSettings_RefusesUnknownKeys()
    {
        var (p, settings) = Stage.Split(new JsonObject { ["n"] = 4, ["seed"] = 9, ["steps"] = 3, ["threads"] = 2 }, "test");
        Assert.Equal(4, p.N);
        Assert.Equal(9, p.Seed);
        Assert.Equal(3, settings["steps"]!.GetValue<int>());
        Assert.False(settings.ContainsKey("threads"));
        var e = Assert.Throws<GenInputException>(() => Stage.Split(new JsonObject { ["stepz"] = 3 }, "stage 's'"));
        Assert.Contains("stepz", e.Message);
    }

    [Fact]
    public void StepOptions_EdmTakesSteps_LowDiffTakesStageSteps()
    {
        var edm = new DiffusionConfig { Net = new UNetConfig() };
        var lowdiff = edm with { Cascade = [8, 16, 32], StageProbs = [0.3, 0.3, 0.4], StageLossWeights = [1, 1, 1] };
        Assert.Equal(new[] { 7 }, new DiffusionSampleSettings { Steps = 7 }.ToOptions(edm).StageSteps);
        Assert.Equal(new[] { 5, 4, 3 }, new DiffusionSampleSettings { StageSteps = [5, 4, 3] }.ToOptions(lowdiff).StageSteps);
        Assert.Null(new DiffusionSampleSettings().ToOptions(edm).StageSteps);   // the sampler's defaults
        Assert.Contains("not both", Assert.Throws<GenInputException>(() => new DiffusionSampleSettings { Steps = 3, StageSteps = [3] }.ToOptions(edm)).Message);
        Assert.Contains("--stage-steps", Assert.Throws<GenInputException>(() => new DiffusionSampleSettings { Steps = 3 }.ToOptions(lowdiff)).Message);
    }

    [Fact]
    public void Guidance_DefaultsToNoneUnconditional_AndToTheConditionalDefault()
    {
        var edm = new DiffusionConfig { Net = new UNetConfig() };
        var cond = edm with { LabelDim = 10 };
        Assert.Equal(1, new DiffusionSampleSettings().ToOptions(edm).Guidance);
        Assert.Equal(DiffusionConfig.ConditionalGuidance, new DiffusionSampleSettings().ToOptions(cond).Guidance);
        Assert.NotEqual(1, DiffusionConfig.ConditionalGuidance);
        Assert.Equal(1, new DiffusionSampleSettings { Guidance = 1 }.ToOptions(cond).Guidance);      // given: kept
        Assert.Equal(3, new DiffusionSampleSettings { Guidance = 3 }.ToOptions(edm).Guidance);       // refused later, by Validate
    }

    [Fact]
    public void Bundled_GenAssetsWins_AndAWrongOneIsAnError()
    {
        string found = SampleStage.Bundled();
        Assert.True(File.Exists(found));
        Assert.EndsWith(SampleStage.BundledCheckpoint, found.Replace('\\', '/'));
        string? before = Environment.GetEnvironmentVariable("GEN_ASSETS");
        using var tmp = new TempDir();
        try
        {
            Directory.CreateDirectory(tmp.File("assets/diffusion"));
            File.Copy(found, tmp.File("assets/diffusion/fmnist.safetensors"));
            Environment.SetEnvironmentVariable("GEN_ASSETS", tmp.File("assets"));
            Assert.Equal(tmp.File("assets/diffusion/fmnist.safetensors"), SampleStage.Bundled());
            Environment.SetEnvironmentVariable("GEN_ASSETS", tmp.File("empty"));
            Assert.Contains("GEN_ASSETS", Assert.Throws<GenInputException>(SampleStage.Bundled).Message);
            var r = Cli.Run("sample", "--n", "1", "--steps", "1");
            Assert.Equal(2, r.ExitCode);
            Assert.Contains("GEN_ASSETS", r.Err);
        }
        finally { Environment.SetEnvironmentVariable("GEN_ASSETS", before); }
    }

    [Fact]
    public void Sample_WritesEveryOutput_ImageDependsOnItsSeedAlone()
    {
        using var tmp = new TempDir();
        var r = Cli.Run("sample", "--seeds", "3-4", "--steps", "2", "--grid", tmp.File("g.png"), "--out", tmp.File("a"), "--npz", tmp.File("s.npz"), "--threads", "2", "--json");
        Assert.True(r.ExitCode == 0, r.Err);
        var json = JsonNode.Parse(r.Out)!;
        Assert.Equal(2, json["n"]!.GetValue<int>());
        Assert.Equal(3, json["first_seed"]!.GetValue<long>());
        Assert.True(File.Exists(tmp.File("g.png")));
        Assert.True(File.Exists(tmp.File("s.npz")));
        Assert.Equal(["000003.png", "000004.png"], Directory.GetFiles(tmp.File("a")).Select(Path.GetFileName).Order());

        var single = Cli.Run("sample", "--seed", "4", "--n", "1", "--steps", "2", "--out", tmp.File("b"), "--threads", "2");
        Assert.True(single.ExitCode == 0, single.Err);
        Assert.Equal(File.ReadAllBytes(tmp.File("a/000004.png")), File.ReadAllBytes(tmp.File("b/000004.png")));
        Assert.NotEqual(File.ReadAllBytes(tmp.File("a/000003.png")), File.ReadAllBytes(tmp.File("a/000004.png")));
    }

    /// <summary>Every sampler of the catalogue: the same seeds give the same bytes, the NFE follows the sampler,
    /// and the samplers give different images (they integrate differently at few steps).</summary>
    [Fact]
    public void Samplers_DeterministicBySeed_NfePerSampler()
    {
        using var tmp = new TempDir();
        var images = new Dictionary<string, double[]>();
        static double[] Pixels(string npz) => Gen.Metrics.Stats.Npz.Read(npz)["arr_0"].Data;
        foreach (var (name, nfe) in new[] { ("heun", 7), ("euler", 4), ("dpmpp-2m", 4), ("euler-a", 4) })
        {
            var a = Cli.Run("sample", "--sampler", name, "--steps", "4", "--seeds", "1-2", "--npz", tmp.File($"{name}-a.npz"), "--threads", "2", "--json");
            Assert.True(a.ExitCode == 0, a.Err);
            var stage = JsonNode.Parse(a.Out)!["stages"]![0]!;
            Assert.Equal(name, stage["sampler"]!.GetValue<string>());
            Assert.Equal(nfe, stage["nfe"]!.GetValue<int>());
            var b = Cli.Run("sample", "--sampler", name, "--steps", "4", "--seeds", "1-2", "--npz", tmp.File($"{name}-b.npz"), "--threads", "2");
            Assert.True(b.ExitCode == 0, b.Err);
            images[name] = Pixels(tmp.File($"{name}-a.npz"));
            Assert.Equal(images[name], Pixels(tmp.File($"{name}-b.npz")));
        }
        Assert.Equal(4, images.Values.Select(v => string.Join(",", v)).Distinct().Count());
    }

    [Theory]
    [InlineData(new[] { "--steps", "2", "--stage-steps", "2" }, "not both")]
    [InlineData(new[] { "--stage-steps", "2,2" }, "one stage")]
    [InlineData(new[] { "--seeds", "5-1" }, "--seeds")]
    [InlineData(new[] { "--n", "0" }, "--n")]
    [InlineData(new[] { "--class", "3", "--steps", "1" }, "class-conditional")]
    [InlineData(new[] { "--steps", "0" }, "between 1 and 1000")]
    [InlineData(new[] { "--sampler", "ddim", "--steps", "2" }, "unknown --sampler")]
    [InlineData(new[] { "--sampler", "euler", "--churn", "1", "--steps", "2" }, "heun sampler only")]
    [InlineData(new[] { "--sampler", "heun,euler", "--steps", "2" }, "one per cascade stage")]
    public void BadArguments_OneLine_ExitTwo(string[] args, string expected)
    {
        var r = Cli.Run(["sample", .. args]);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains(expected, r.Err);
        Assert.Single(r.Err.Trim().Split('\n'));
    }

    [Fact]
    public void NotASampler_RefusedBeforeLoading()
    {
        using var tmp = new TempDir();
        SafeTensors.Write(tmp.File("c.safetensors"), [], Checkpoint.Metadata("classifier", "{}", 1));
        var r = Cli.Run("sample", tmp.File("c.safetensors"), "--n", "1");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("cannot sample images", r.Err);
    }
}

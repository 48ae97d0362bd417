// Interleaved speed measurements (the machine is shared: only ratios measured in one run count).
//   train-speed: per round, fp32 matmul 2048² peak, then EDM training steps (B=128 at 32²) and LowDiff
//     training steps at each cascade stage with pixel-equalised batches (B·(32/r)²), all with the Adam
//     update of the real optimizer; achieved GFLOP/s = images/s × 3 × forward FLOPs (Flops.cs). Then the
//     two-stage cascade 16→32 (0.6/0.4) with fixed batches (B images at every stage, --stage-batch fixed),
//     whose expected step is compared with the EDM step: the equal wall-clock check of its training.
//   sample-speed: per round, EDM (N=18) and LowDiff (18,8,6) sampling of the same seeds, fp32 and bf16,
//     timing the sampler call only (no model load, no file writing), one warm-up round discarded.
using System.Diagnostics;
using System.Globalization;
using Gen.Generative.Diffusion;
using Gen.Pipeline;
using Gen.Pipeline.Data;
using Gen.Pipeline.Training;
using static TorchSharp.torch;

public static class Speed
{
    public static double Matmul(int n, int reps)
    {
        using var scope = NewDisposeScope();
        using var g = new Generator(1);
        var a = randn([n, n], generator: g);
        var b = randn([n, n], generator: g);
        a.matmul(b).Dispose();
        var sw = Stopwatch.StartNew();
        for (int i = 0; i < reps; i++) a.matmul(b).Dispose();
        return 2.0 * n * n * n * reps / sw.Elapsed.TotalSeconds / 1e9;
    }

    public static double Median(IEnumerable<double> v)
    {
        var s = v.Order().ToList();
        return s.Count % 2 == 1 ? s[s.Count / 2] : (s[s.Count / 2 - 1] + s[s.Count / 2]) / 2;
    }

    private static string F(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);

    public static void Train(Args o)
    {
        int rounds = o.Int("rounds", 3), steps = o.Int("steps", 4), batch = o.Int("batch", 128);
        var data = DatasetCatalog.Load("fashion-mnist", Split.Train);
        var edmCfg = new DiffusionConfig { Net = new UNetConfig() };
        var lowCfg = new DiffusionConfig { Net = new UNetConfig(), Cascade = [8, 16, 32], StageProbs = [0.3, 0.3, 0.4], StageLossWeights = [1, 1, 1] };
        using var g0 = new Generator(0);
        using var edm = new DiffusionMethod(edmCfg, data, g0);
        using var low = new DiffusionMethod(lowCfg, data, g0);
        var fixCfg = new DiffusionConfig { Net = new UNetConfig(), Cascade = [16, 32], StageProbs = [0.6, 0.4], StageLossWeights = [1, 1], StageBatch = DiffusionConfig.FixedBatch };
        using var fix = new DiffusionMethod(fixCfg, data, g0);
        var train = new TrainConfig { Steps = 1, Batch = batch, Lr = 1e-4, Optimizer = OptimizerKind.Adam, WeightDecay = 0 };
        using var optE = new Optimizer(train, ((ITrainMethod)edm).ParamGroups());
        using var optL = new Optimizer(train, ((ITrainMethod)low).ParamGroups());
        using var optF = new Optimizer(train, ((ITrainMethod)fix).ParamGroups());
        var fwd = new Dictionary<int, double>();
        foreach (int r in new[] { 8, 16, 32 }) fwd[r] = Flops.Forward(DiffusionModel.NetConfig(lowCfg), r);
        double edmFwd = Flops.Forward(DiffusionModel.NetConfig(edmCfg), 32);
        Console.WriteLine(F($"threads {get_num_threads()}, batch {batch}, {steps} steps per measurement, forward GFLOP/img: 32² {edmFwd / 1e9:F4}, 16² {fwd[16] / 1e9:F4}, 8² {fwd[8] / 1e9:F4}"));
        var results = new Dictionary<string, List<(double Ips, double Gflops, double StepS)>>();
        var peaks = new List<double>();
        int[] idx = Enumerable.Range(0, batch).ToArray();
        for (int round = 0; round <= rounds; round++)
        {
            double peak = Matmul(2048, 3);
            var row = new List<string> { F($"matmul {peak:F1} GFLOP/s") };
            foreach (var (name, method, opt, stage) in new (string, DiffusionMethod, Optimizer, int)[]
                     { ("edm@32", edm, optE, -1), ("lowdiff@8", low, optL, 0), ("lowdiff@16", low, optL, 1), ("lowdiff@32", low, optL, 2), ("fixed@16", fix, optF, 0), ("fixed@32", fix, optF, 1) })
            {
                var cfg = method.Config;
                int r = stage < 0 ? 32 : cfg.Cascade[stage];
                long images = stage < 0 ? batch : cfg.StageBatchSize(stage, batch);
                var sw = new Stopwatch();
                for (int s = 0; s < steps; s++)
                {
                    // Find a step seed whose first draw picks the wanted stage (the method picks stages itself).
                    ulong seed = (ulong)(round * 1000 + s * 10);
                    if (stage >= 0)
                        while (true) { using var probe = new Generator(seed); if (DiffusionMethod.PickStage(cfg, probe) == stage) break; seed++; }
                    TrainStep(method, opt, data, idx, s, steps, seed, 1e-4, sw);
                }
                double ips = steps * images / sw.Elapsed.TotalSeconds;
                double gf = ips * 3 * (stage < 0 ? edmFwd : fwd[r]) / 1e9;
                if (round > 0)
                {
                    if (!results.TryGetValue(name, out var l)) results[name] = l = [];
                    l.Add((ips, gf, sw.Elapsed.TotalSeconds / steps));
                }
                row.Add(F($"{name} {ips:F1} img/s {gf:F1} GFLOP/s {sw.Elapsed.TotalSeconds / steps:F2} s/step"));
            }
            if (round > 0) peaks.Add(peak);
            Console.WriteLine($"round {round}{(round == 0 ? " (warm-up)" : "")}: " + string.Join(" | ", row));
        }
        Console.WriteLine(F($"median matmul fp32 2048²: {Median(peaks):F1} GFLOP/s"));
        foreach (var (name, l) in results)
            Console.WriteLine(F($"median {name}: {Median(l.Select(x => x.Ips)):F1} img/s, {Median(l.Select(x => x.Gflops)):F1} GFLOP/s ({100 * Median(l.Select(x => x.Gflops)) / Median(peaks):F0}% of matmul), {Median(l.Select(x => x.StepS)):F2} s/step"));
        double edmStep = Median(results["edm@32"].Select(x => x.StepS));
        // A cascade's expected step: its stages' median step times, weighted by the stage probabilities.
        double Expected(DiffusionConfig c, string prefix) =>
            Enumerable.Range(0, c.Stages).Sum(s => c.StageProbs[s] / c.StageProbs.Sum() * Median(results[$"{prefix}@{c.Cascade[s]}"].Select(x => x.StepS)));
        static string Mix(DiffusionConfig c) => string.Join("/", c.StageProbs.Select(p => p.ToString(CultureInfo.InvariantCulture)));
        double lowStep = Expected(lowCfg, "lowdiff"), fixStep = Expected(fixCfg, "fixed");
        Console.WriteLine(F($"expected LowDiff step ({Mix(lowCfg)} mix) {lowStep:F2} s vs EDM step {edmStep:F2} s: ratio {lowStep / edmStep:F3}"));
        Console.WriteLine(F($"expected fixed-batch 16→32 step ({Mix(fixCfg)} mix) {fixStep:F2} s vs EDM step {edmStep:F2} s: ratio {fixStep / edmStep:F3} (FLOPs ratio {fixCfg.StepCostVsBaseline():F3})"));
    }

    /// <summary>One training step as the trainer makes it (the method's loss, backward, the optimizer's update)
    /// on the images <paramref name="idx"/>, with the step's generator seeded by <paramref name="seed"/>;
    /// <paramref name="timer"/>, if given, runs from the forward pass to the update (batch assembly excluded).</summary>
    public static void TrainStep(DiffusionMethod method, Optimizer opt, ImageSet data, int[] idx, int step, int totalSteps,
                                 ulong seed, double lr, Stopwatch? timer = null)
    {
        using var guard = NativeCallGuard.Enter();
        using var scope = NewDisposeScope();
        using var gen = new Generator(seed);
        var batch = new Batch(Batches.Float(data, idx), Batches.Labels(data, idx), idx);
        var ctx = new StepContext { Step = step, TotalSteps = totalSteps, Lr = lr, ImagesSeen = 0, Generator = gen };
        timer?.Start();
        method.Model.train();
        var output = method.Step(batch, ctx);
        opt.ZeroGrad();
        output.Loss.backward();
        opt.Step(lr);
        timer?.Stop();
    }

    public static void Sample(Args o)
    {
        int rounds = o.Int("rounds", 3), n = o.Int("n", 256), batch = o.Int("batch", 128);
        using var edm32 = DiffusionModel.Load(o.Str("edm", "runs/diff/edm"));
        using var low32 = DiffusionModel.Load(o.Str("lowdiff", "runs/diff/lowdiff"));
        using var edm16 = DiffusionModel.Load(o.Str("edm", "runs/diff/edm"));
        using var low16 = DiffusionModel.Load(o.Str("lowdiff", "runs/diff/lowdiff"));
        edm16.ToBFloat16();
        low16.ToBFloat16();
        int[] lowSteps = TrainStepsArg(o.Str("stage-steps", "18,8,6"));
        int edmSteps = o.Int("steps", 18);
        var seeds = Enumerable.Range(0, n).Select(i => (long)i).ToList();
        var configs = new (string Name, DiffusionModel M, SampleOptions Opt)[]
        {
            ("edm fp32", edm32, new SampleOptions { StageSteps = [edmSteps], Batch = batch }),
            ("lowdiff fp32", low32, new SampleOptions { StageSteps = lowSteps, Batch = batch }),
            ("edm bf16", edm16, new SampleOptions { StageSteps = [edmSteps], Batch = batch }),
            ("lowdiff bf16", low16, new SampleOptions { StageSteps = lowSteps, Batch = batch }),
        };
        Console.WriteLine(F($"threads {get_num_threads()}, {n} images per measurement, batch {batch}, EDM steps {edmSteps}, LowDiff steps {string.Join(",", lowSteps)}"));
        var ips = configs.ToDictionary(c => c.Name, _ => new List<double>());
        var outputs = new Dictionary<string, Tensor>();
        for (int round = 0; round <= rounds; round++)
        {
            var row = new List<string>();
            foreach (var (name, m, opt) in configs)
            {
                var (images, stats) = DiffusionSampler.Sample(m, round == 0 ? seeds.Take(Math.Min(n, batch)).ToList() : seeds, opt);
                if (round > 0) ips[name].Add(stats.ImagesPerSecond);
                if (round == 1) outputs[name] = images; else images.Dispose();
                row.Add(F($"{name} {stats.ImagesPerSecond:F2} img/s"));
            }
            Console.WriteLine($"round {round}{(round == 0 ? " (warm-up)" : "")}: " + string.Join(" | ", row));
        }
        foreach (var (name, l) in ips) Console.WriteLine(F($"median {name}: {Median(l):F2} img/s"));
        Console.WriteLine(F($"speed-up lowdiff/edm fp32 {Median(ips["lowdiff fp32"]) / Median(ips["edm fp32"]):F2}x, bf16 {Median(ips["lowdiff bf16"]) / Median(ips["edm bf16"]):F2}x; bf16/fp32 edm {Median(ips["edm bf16"]) / Median(ips["edm fp32"]):F2}x, lowdiff {Median(ips["lowdiff bf16"]) / Median(ips["lowdiff fp32"]):F2}x"));
        foreach (string k in new[] { "edm", "lowdiff" })
            Console.WriteLine(F($"{k}: max |bf16 − fp32| over the images {outputs[k + " bf16"].sub(outputs[k + " fp32"]).abs().max().item<float>():F4}, mean {outputs[k + " bf16"].sub(outputs[k + " fp32"]).abs().mean().item<float>():F5} (images in [−1, 1])"));
        foreach (var t in outputs.Values) t.Dispose();
    }

    private static int[] TrainStepsArg(string s) => s.Split(',').Select(x => int.Parse(x, CultureInfo.InvariantCulture)).ToArray();
}

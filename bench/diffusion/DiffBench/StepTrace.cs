// step-trace: EDM training steps (default UNet, batch 128 at 32², Adam) with a fixed SiLU micro-benchmark
// (forward+backward on a constant random tensor) after each step, plus the 2048² matmul peak before and
// after. The SiLU probe shows the slow phases of ATen's AVX-512 SiLU/sigmoid kernels that
// docs/platform.md §11 describes; run it under ATEN_CPU_CAPABILITY=avx512 and =avx2 (kernels_ab.sh) to compare.
using System.Diagnostics;
using System.Globalization;
using Gen.Generative.Diffusion;
using Gen.Pipeline;
using Gen.Pipeline.Data;
using Gen.Pipeline.Training;
using static TorchSharp.torch;

public static class StepTrace
{
    private static string F(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);

    public static void Run(Args o)
    {
        int steps = o.Int("steps", 40), batch = o.Int("batch", 128);
        double slowMs = o.Dbl("slow-ms", 5);
        var data = DatasetCatalog.Load("fashion-mnist", Split.Train);
        var cfg = new DiffusionConfig { Net = new UNetConfig() };
        using var g0 = new Generator(0);
        using var method = new DiffusionMethod(cfg, data, g0);
        var train = new TrainConfig { Steps = steps, Batch = batch, Lr = 1e-3, Optimizer = OptimizerKind.Adam, WeightDecay = 0 };
        using var opt = new Optimizer(train, ((ITrainMethod)method).ParamGroups());
        using var outer = NewDisposeScope();
        var h = randn([batch, 16, 32, 32], generator: g0).requires_grad_(true);
        double fwd = Flops.Forward(DiffusionModel.NetConfig(cfg), 32);
        double peak0 = Speed.Matmul(2048, 3);
        var rng = new Random(0);
        var stepS = new List<double>();
        var siluMs = new List<double>();
        for (int it = 0; it < steps; it++)
        {
            var sw = Stopwatch.StartNew();
            int[] idx = Enumerable.Range(0, batch).Select(_ => rng.Next(data.Count)).ToArray();
            Speed.TrainStep(method, opt, data, idx, it, steps, (ulong)it, 1e-3);   // timed whole, as sw runs
            stepS.Add(sw.Elapsed.TotalSeconds);
            siluMs.Add(Profile.Time(() => { using var s = NewDisposeScope(); nn.functional.silu(h).sum().backward(); }, 3));
            if (o.Has("verbose")) Console.WriteLine(F($"step {it,3}: {stepS[^1]:F2} s, silu f+b {siluMs[^1]:F1} ms"));
        }
        double peak1 = Speed.Matmul(2048, 3);
        var kept = stepS.Skip(2).ToList();   // the first steps include kernel creation
        double med = Speed.Median(kept), mean = kept.Average();
        double peak = (peak0 + peak1) / 2;
        int slow = siluMs.Skip(2).Count(v => v > slowMs);
        Console.WriteLine(F($"ATen kernels {CpuKernels.Capability()}, threads {get_num_threads()}, batch {batch}, {kept.Count} steps timed"));
        Console.WriteLine(F($"step median {med:F3} s, mean {mean:F3} s; matmul {peak0:F1}/{peak1:F1} GFLOP/s; ") +
                          F($"median {batch * 3 * fwd / med / 1e9:F1} GFLOP/s = {100 * batch * 3 * fwd / med / 1e9 / peak:F1}% of matmul; ") +
                          F($"mean {100 * batch * 3 * fwd / mean / 1e9 / peak:F1}%; SiLU probe slow (> {slowMs} ms) after {slow}/{kept.Count} steps, median {Speed.Median(siluMs.Skip(2)):F1} ms"));
    }
}

// gen-bench: measurements that need more control than the gen CLI gives.
//   gen-bench matmul [--n 2048] [--threads T] [--dtype f32|bf16]
//   gen-bench jem-gen --model RUN [--judge CKPT] [--n 100] [--steps K]   (bench/RESULTS.md "JEM-AT", B2)
//   gen-bench lzn-acc --model RUN [--n 1000] [--stds 0,0.5,1]   (bench/RESULTS.md "LZN": sample and test accuracy)
//   gen-bench class-acc --model CKPT --images DIR   (a conditional generator's per-class sample accuracy)
//   gen-bench classifier-step [--rounds 5] [--steps 30] [--batch 128] [--threads T] [--width 32] [--stem-stride 2]
// classifier-step interleaves rounds of fp32 matmul and classifier training steps in one process,
// so the achieved GFLOP/s and the matmul peak come from the same load conditions.
using System.Diagnostics;
using System.Globalization;
using Gen.Bench;
using Gen.Pipeline;
using Gen.Pipeline.Classifier;
using Gen.Pipeline.Data;
using Gen.Pipeline.Models;
using Gen.Pipeline.Training;
using static TorchSharp.torch;

CpuKernels.Apply();      // ATen's AVX2 kernels unless ATEN_CPU_CAPABILITY is set (docs/platform.md §11)
MallocTuning.Apply();
var opts = Args.Parse(args.Skip(1));
int threads = opts.Int("threads", 0);
Denormals.Configure(threads);   // flush-to-zero as the gen CLI, then the thread count
switch (args.FirstOrDefault())
{
    case "matmul":
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"matmul {opts.Str("dtype", "f32")} n={opts.Int("n", 2048)}: {Bench.MatmulGflops(opts.Int("n", 2048), opts.Str("dtype", "f32") == "bf16" ? ScalarType.BFloat16 : ScalarType.Float32, 5):F1} GFLOP/s (threads {get_num_threads()})"));
        break;
    case "classifier-step":
        Bench.ClassifierStep(opts);
        break;
    case "hash":
        Bench.HashFolder(opts);
        break;
    case "metric-cost":
        Bench.MetricCost(opts);
        break;
    case "inception-weights":
        // An FID Inception with random weights, as safetensors: the same network and cost as the real
        // weights (which are not served here) for speed measurements; its features mean nothing. The
        // convolutions get Kaiming-normal weights so activations keep their scale through the ~90 layers:
        // with libtorch's default init they shrink towards the subnormal range, where the bf16 kernels
        // ran 40× slower (measured: 1.0 against 44 img/s).
        using (var net = new Gen.Metrics.Inception.FidInceptionV3())
        using (var g = new Generator(0))
        {
            foreach (var (name, p) in net.named_parameters())
                if (p.dim() == 4) Init.KaimingNormalFanOut(p, g);
            Gen.Pipeline.Checkpoints.Checkpoint.Save(opts.Str("out", "inception-random.safetensors"), net, "inception-random", "{}", 0);
        }
        Console.WriteLine($"wrote {opts.Str("out", "inception-random.safetensors")}");
        break;
    case "jem-gen":
        JemGeneration.Run(opts, Gen.Generative.GenerativeMethods.AddGenerative(Gen.Pipeline.Methods.PipelineMethods.AddPipeline(new Gen.Pipeline.Methods.MethodRegistry())).Use());
        break;
    case "lzn-acc":
        LznAccuracy.Run(opts, Gen.Generative.GenerativeMethods.AddGenerative(Gen.Pipeline.Methods.PipelineMethods.AddPipeline(new Gen.Pipeline.Methods.MethodRegistry())).Use());
        break;
    case "class-acc":
        ClassAccuracy.Run(opts, Gen.Generative.GenerativeMethods.AddGenerative(Gen.Pipeline.Methods.PipelineMethods.AddPipeline(new Gen.Pipeline.Methods.MethodRegistry())).Use());
        break;
    case "onnx-speed":
        OnnxSpeed.Run(opts, Gen.Generative.GenerativeMethods.AddGenerative(Gen.Pipeline.Methods.PipelineMethods.AddPipeline(new Gen.Pipeline.Methods.MethodRegistry())).Use());
        break;
    default:
        Console.Error.WriteLine("usage: gen-bench matmul|classifier-step|hash|metric-cost|inception-weights|jem-gen|lzn-acc|class-acc|onnx-speed [options]");
        return 2;
}
return 0;

namespace Gen.Bench
{
    public sealed class Args
    {
        private readonly Dictionary<string, string> _v = new();

        public static Args Parse(IEnumerable<string> args)
        {
            var a = new Args();
            string? key = null;
            foreach (string s in args)
            {
                if (s.StartsWith("--", StringComparison.Ordinal)) { key = s[2..]; a._v[key] = "true"; }
                else if (key is not null) { a._v[key] = s; key = null; }
            }
            return a;
        }

        public int Int(string k, int d) => _v.TryGetValue(k, out var s) ? int.Parse(s, CultureInfo.InvariantCulture) : d;
        public string Str(string k, string d) => _v.TryGetValue(k, out var s) ? s : d;
    }

    public static class Bench
    {
        public static double MatmulGflops(int n, ScalarType dtype, int reps)
        {
            using var scope = NewDisposeScope();
            var g = new Generator(1);
            var a = randn([n, n], generator: g).to_type(dtype);
            var b = randn([n, n], generator: g).to_type(dtype);
            a.matmul(b).Dispose(); // warm-up
            var sw = Stopwatch.StartNew();
            for (int i = 0; i < reps; i++) a.matmul(b).Dispose();
            return 2.0 * n * n * n * reps / sw.Elapsed.TotalSeconds / 1e9;
        }

        /// <summary>Forward FLOPs of the ResNet on an H×W input: 2·MACs of every conv and the linear head.</summary>
        public static double ResNetForwardFlops(ResNetConfig c, int h, int w)
        {
            double flops = 0;
            int H = h, W = w;
            int Out(int x, int stride) => (x + 2 - 3) / stride + 1;
            H = Out(H, c.StemStride); W = Out(W, c.StemStride);
            flops += 2.0 * c.InChannels * c.Widths[0] * 9 * H * W;
            int cin = c.Widths[0];
            for (int s = 0; s < c.Widths.Length; s++)
                for (int b = 0; b < c.Blocks[s]; b++)
                {
                    int stride = s > 0 && b == 0 ? 2 : 1, cout = c.Widths[s];
                    int h2 = Out(H, stride), w2 = Out(W, stride);
                    flops += 2.0 * cin * cout * 9 * h2 * w2 + 2.0 * cout * cout * 9 * h2 * w2;
                    if (stride != 1 || cin != cout) flops += 2.0 * cin * cout * h2 * w2;
                    H = h2; W = w2; cin = cout;
                }
            return flops + 2.0 * cin * c.Classes;
        }

        public static void ClassifierStep(Args o)
        {
            int rounds = o.Int("rounds", 5), steps = o.Int("steps", 30), batch = o.Int("batch", 128);
            var resnet = new ResNetConfig { InChannels = 1, Classes = 10, Widths = [o.Int("width", 32), 2 * o.Int("width", 32), 4 * o.Int("width", 32)], Blocks = [2, 2, 2], StemStride = o.Int("stem-stride", 2) };
            var config = new ClassifierConfig { ResNet = resnet, Mean = [0.286], Std = [0.353], ImageSize = 28 };
            using var method = new ClassifierMethod(config, new Generator(0));
            var train = new TrainConfig { Steps = 1, Batch = batch, Lr = 0.05 };
            using var optimizer = new Optimizer(train, ((ITrainMethod)method).ParamGroups());
            var rng = new Generator(3);
            double trainFlops = 3 * ResNetForwardFlops(resnet, 28, 28);   // forward + backward ≈ 3× forward
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"classifier width {resnet.Widths[0]} stem-stride {resnet.StemStride}: {ResNetForwardFlops(resnet, 28, 28) / 1e9:F4} GFLOP forward per image, threads {get_num_threads()}"));
            var imgs = new List<double>();
            var achieved = new List<double>();
            var peaks = new List<double>();
            for (int r = 0; r < rounds + 1; r++)
            {
                double peak = MatmulGflops(2048, ScalarType.Float32, 3);
                var sw = Stopwatch.StartNew();
                for (int s = 0; s < steps; s++)
                {
                    using var guard = NativeCallGuard.Enter();
                    using var scope = NewDisposeScope();
                    var x = rand([batch, 1, 28, 28], generator: rng);
                    var y = randint(0, 10, [batch], generator: rng);
                    var ctx = new StepContext { Step = s, TotalSteps = steps, Lr = 0.05, ImagesSeen = 0, Generator = rng };
                    method.Model.train();
                    var outp = method.Step(new Batch(x, y, []), ctx);
                    optimizer.ZeroGrad();
                    outp.Loss.backward();
                    optimizer.Step(0.05);
                }
                double ips = steps * batch / sw.Elapsed.TotalSeconds;
                if (r == 0) continue; // warm-up round
                imgs.Add(ips);
                achieved.Add(ips * trainFlops / 1e9);
                peaks.Add(peak);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"round {r}: matmul {peak:F1} GFLOP/s | train {ips:F0} img/s = {ips * trainFlops / 1e9:F1} GFLOP/s ({100 * ips * trainFlops / 1e9 / peak:F0}% of matmul)"));
            }
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"median: matmul {Median(peaks):F1} GFLOP/s, train {Median(imgs):F0} img/s, {Median(achieved):F1} GFLOP/s, ratio {Median(achieved) / Median(peaks):F2}"));
        }

        /// <summary>
        /// The pipeline's content hash of a folder of N 28×28 PNGs (the size of a sample stage's output),
        /// against listing the same folder with names, sizes and modification times only (what a
        /// time-based key would cost), interleaved over rounds. The files are in the page cache.
        /// </summary>
        public static void HashFolder(Args o)
        {
            int n = o.Int("n", 10_000), rounds = o.Int("rounds", 5);
            string dir = Path.Combine(Path.GetTempPath(), $"gen-bench-hash-{Environment.ProcessId}");
            Directory.CreateDirectory(dir);
            try
            {
                var rng = new Random(0);
                var px = new byte[28 * 28];
                var write = Stopwatch.StartNew();
                for (int i = 0; i < n; i++)
                {
                    rng.NextBytes(px);
                    Gen.Pipeline.Imaging.ImageCodec.WritePng(Path.Combine(dir, $"{i:D6}.png"), px, 1, 28, 28);
                }
                long bytes = Directory.EnumerateFiles(dir).Sum(f => new FileInfo(f).Length);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{n} PNGs, {bytes / 1048576.0:F1} MiB, written in {write.Elapsed.TotalSeconds:F2} s; {Environment.ProcessorCount} cores"));
                var hash = new List<double>();
                var stat = new List<double>();
                for (int r = 0; r < rounds; r++)
                {
                    var sw = Stopwatch.StartNew();
                    string h = Gen.Pipeline.Stages.ContentHash.OfPath(dir);
                    double th = sw.Elapsed.TotalSeconds;
                    sw.Restart();
                    long ticks = Directory.EnumerateFiles(dir).Select(f => new FileInfo(f)).Aggregate(0L, (a, fi) => a ^ fi.Length ^ fi.LastWriteTimeUtc.Ticks);
                    double ts = sw.Elapsed.TotalSeconds;
                    hash.Add(th);
                    stat.Add(ts);
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"round {r}: content hash {th * 1000:F0} ms ({n / th:F0} files/s, {bytes / 1048576.0 / th:F0} MiB/s) | name+size+mtime listing {ts * 1000:F0} ms | {h[..16]} {ticks & 0xff}"));
                }
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"median of {rounds}: content hash {Median(hash) * 1000:F0} ms, listing {Median(stat) * 1000:F0} ms, ratio {Median(hash) / Median(stat):F1}"));
            }
            finally { Directory.Delete(dir, recursive: true); }
        }

        /// <summary>
        /// What eval-gen computes after extraction, on random features of Inception's width: the k-NN
        /// metrics (three N×N distance passes in float64), KID (torch-fidelity's 100 subsets of 1,000),
        /// the two covariances and the Fréchet distance. Each part timed once, after a warm-up.
        /// </summary>
        public static void MetricCost(Args o)
        {
            int n = o.Int("n", 10_000), d = o.Int("d", 2048);
            using var real = randn([n, d], generator: new Generator(1));
            using var fake = randn([n, d], generator: new Generator(2)) * 0.9 + 0.1;
            using (var r = real.narrow(0, 0, 300)) using (var f = fake.narrow(0, 0, 300)) Gen.Metrics.Manifold.Compute(r, f);
            var sw = Stopwatch.StartNew();
            var prdc = Gen.Metrics.Manifold.Compute(real, fake);
            double tPrdc = sw.Elapsed.TotalSeconds;
            sw.Restart();
            var kid = Gen.Metrics.Kid.Compute(fake, real);
            double tKid = sw.Elapsed.TotalSeconds;
            sw.Restart();
            var fid = Gen.Metrics.Frechet.Distance(Gen.Metrics.EvalGen.StatsOf(fake), Gen.Metrics.EvalGen.StatsOf(real));
            double tFid = sw.Elapsed.TotalSeconds;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"N = {n} vs {n}, d = {d}, threads {get_num_threads()}: precision/recall/density/coverage {tPrdc:F1} s (P {prdc.Precision:F3} R {prdc.Recall:F3} D {prdc.Density:F3} C {prdc.Coverage:F3}); KID (100×1000) {tKid:F1} s; two covariances + Fréchet {tFid:F1} s (FID {fid.Distance:F2})"));
        }

        private static double Median(List<double> v)
        {
            var s = v.Order().ToList();
            return s.Count % 2 == 1 ? s[s.Count / 2] : (s[s.Count / 2 - 1] + s[s.Count / 2]) / 2;
        }
    }
}

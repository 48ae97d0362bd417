// diff-bench: diffusion measurements that need more control than the gen CLI.
//   diff-bench profile [--batch 128] [--res 32] [--threads T] [--reps 3]
using System.Diagnostics;
using System.Globalization;
using Gen.Generative.Diffusion;
using Gen.Pipeline;
using TorchSharp;
using static TorchSharp.torch;

CpuKernels.Apply();      // ATen's AVX2 kernels unless ATEN_CPU_CAPABILITY is set (docs/platform.md §11)
MallocTuning.Apply();
var opts = Args.Parse(args.Skip(1));
int threads = opts.Int("threads", 0);
Denormals.Configure(threads);   // flush-to-zero as the gen CLI, then the thread count
switch (args.FirstOrDefault())
{
    case "profile": Profile.Run(opts); break;
    case "conv-check": ConvCheck.Run(opts); break;
    case "gradcheck": GradCheck.Run(opts); break;
    case "flops": FlopsReport.Run(); break;
    case "train-speed": Speed.Train(opts); break;
    case "sample-speed": Speed.Sample(opts); break;
    case "anchors": Anchors.Run(opts); break;
    case "plot": PlotResults.Run(opts); break;
    case "profile-bf16": ProfileBf16.Run(opts); break;
    case "up-ab": UpAB.Run(opts); break;
    case "elem-ab": ElemAB.Run(opts); break;
    case "block-profile": BlockProfile.Run(opts); break;
    case "superres": SuperRes.Run(opts); break;
    case "step-trace": StepTrace.Run(opts); break;
    default:
        Console.Error.WriteLine("usage: diff-bench profile [options]");
        return 2;
}
return 0;

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
    public double Dbl(string k, double d) => _v.TryGetValue(k, out var s) ? double.Parse(s, CultureInfo.InvariantCulture) : d;
    public string Str(string k, string d) => _v.TryGetValue(k, out var s) ? s : d;
    public bool Has(string k) => _v.ContainsKey(k);
}

public static class Profile
{
    public static double Time(Action a, int reps)
    {
        a();
        var times = new List<double>();
        for (int i = 0; i < reps; i++)
        {
            var sw = Stopwatch.StartNew();
            using (NativeCallGuard.Enter()) a();
            times.Add(sw.Elapsed.TotalMilliseconds);
        }
        times.Sort();
        return times[times.Count / 2];
    }

    public static void Run(Args o)
    {
        int b = o.Int("batch", 128), r = o.Int("res", 32), reps = o.Int("reps", 3);
        using var g = new Generator(0);
        var cfg = new DiffusionConfig { Net = new UNetConfig() };
        using var m = new DiffusionModel(cfg, g);
        Console.WriteLine($"params {m.ParameterCount}, threads {get_num_threads()}, batch {b}, res {r}");
        using var x = randn([b, 1, r, r], generator: g);
        using var sigma = full([b], 1.0f);
        double fwd = Time(() => { using var s = NewDisposeScope(); using var ng = no_grad(); m.Precond.Denoise(x, sigma, null); }, reps);
        double fb = Time(() => { using var s = NewDisposeScope(); m.Precond.Denoise(x, sigma, null).square().mean().backward(); }, reps);
        Console.WriteLine($"forward {fwd:F0} ms, forward+backward {fb:F0} ms ({b / (fb / 1000):F1} img/s)");
        // Per-op
        using var scope = NewDisposeScope();
        var h16 = randn([b, 16, 32, 32], generator: g).requires_grad_(true);
        var h32 = randn([b, 32, 16, 16], generator: g).requires_grad_(true);
        var h64 = randn([b, 64, 8, 8], generator: g).requires_grad_(true);
        var conv16 = nn.Conv2d(16, 16, 3, padding: 1);
        var conv32 = nn.Conv2d(32, 32, 3, padding: 1);
        var conv64 = nn.Conv2d(64, 64, 3, padding: 1);
        void FB(string name, Func<Tensor> f)
        {
            double t1 = Time(() => { using var s = NewDisposeScope(); using var ng = no_grad(); f(); }, reps);
            double t2 = Time(() => { using var s = NewDisposeScope(); f().sum().backward(); }, reps);
            Console.WriteLine($"{name,-28} fwd {t1,8:F1} ms  fwd+bwd {t2,8:F1} ms");
        }
        FB("conv3x3 16@32", () => conv16.call(h16));
        FB("conv3x3 32@16", () => conv32.call(h32));
        FB("conv3x3 64@8", () => conv64.call(h64));
        var w16 = ones(16).requires_grad_(true); var b16 = zeros(16).requires_grad_(true);
        FB("group_norm 16@32", () => nn.functional.group_norm(h16, 4, w16, b16, 1e-6));
        FB("silu 16@32", () => nn.functional.silu(h16));
        FB("avgpool 16@32", () => nn.functional.avg_pool2d(h16, 2));
        FB("repeat_interleave 32@16", () => h32.repeat_interleave(2, 2).repeat_interleave(2, 3));
        FB("interpolate nearest 32@16", () => nn.functional.interpolate(h32, scale_factor: [2, 2], mode: InterpolationMode.Nearest));
        FB("cat 16@32", () => cat([h16, h16], 1));
        var q = randn([b, 64, 64], generator: g).requires_grad_(true);
        FB("attn einsum 64@8", () => einsum("ncq,nck->nqk", q, q).softmax(2));
        var lin = nn.Linear(64, 64);
        var e = randn([b, 64], generator: g);
        FB("affine add 16@32", () => h16.add(lin.call(e).narrow(1, 0, 16).unsqueeze(2).unsqueeze(3)));
    }
}

/// <summary>fp32 convolutions against float64 for every input-channel count 1..72 (finds oneDNN kernels
/// that return wrong values for particular shapes).</summary>
public static class ConvCheck
{
    public static void Run(Args o)
    {
        using var g = new Generator(3);
        using var ng = no_grad();
        int batch = o.Int("batch", 4), hw = o.Int("hw", 8), k = o.Int("k", 3), co = o.Int("co", 16);
        var bad = new List<string>();
        for (int ci = 1; ci <= 72; ci++)
        {
            var conv = nn.Conv2d(ci, co, k, padding: k / 2);
            var x = randn([batch, ci, hw, hw], generator: g);
            var a = conv.call(x);
            var r = nn.functional.conv2d(x.to(ScalarType.Float64), conv.weight!.to(ScalarType.Float64), conv.bias!.to(ScalarType.Float64), padding: [k / 2, k / 2]);
            double err = a.to(ScalarType.Float64).sub(r).abs().max().item<double>();
            if (!(err < 1e-4)) bad.Add($"{ci}:{err:G2}");
        }
        Console.WriteLine($"batch {batch} hw {hw} k {k} co {co} threads {get_num_threads()}: bad ci = {string.Join(" ", bad)}");
    }
}

public static class GradCheck
{
    /// <summary>Gradients of the default UNet (docs/methods/diffusion.md §2.8) in fp32 vs fp64 (catches wrong oneDNN kernels for the shapes used).</summary>
    public static void Run(Args o)
    {
        int b = o.Int("batch", 8);
        foreach (var cascade in new[] { false, true })
        {
            using var g = new Generator(5);
            var cfg = new DiffusionConfig { Net = new UNetConfig(), Cascade = cascade ? [8, 16, 32] : [], StageProbs = cascade ? [0.3, 0.3, 0.4] : [], StageLossWeights = cascade ? [1, 1, 1] : [] };
            using var m32 = new DiffusionModel(cfg, g);
            using var m64 = new DiffusionModel(cfg, g);
            using (no_grad()) foreach (var (n, p) in m32.Net.named_parameters()) { if (n.Contains("conv1") || n.Contains("aux_conv") || n.Contains("proj")) p.normal_(0, 0.05, g); }
            m64.Net.load_state_dict(m32.Net.state_dict());
            m64.Net.to(ScalarType.Float64);
            foreach (int r in cascade ? new[] { 8, 16, 32 } : new[] { 32 })
            {
                var x = randn([b, 1, r, r], ScalarType.Float64, generator: g);
                var s = exp(randn([b], ScalarType.Float64, generator: g));
                CascadeInput? st = cascade ? new CascadeInput(randn([b, 1, r, r], generator: g), LowDiffCascade.StageVector(1, 3, zeros(b)), zeros(b)) : null;
                var d32 = m32.Precond.Denoise(x.to(ScalarType.Float32), s.to(ScalarType.Float32), null, st);
                d32.square().mean().backward();
                var d64 = m64.Precond.Denoise(x, s, null, st);
                d64.square().mean().backward();
                double outErr = d32.to(ScalarType.Float64).sub(d64).abs().max().item<double>();
                double worst = 0; string worstName = "";
                var p64 = m64.Net.named_parameters().ToDictionary(p => p.name, p => p.parameter);
                foreach (var (n, p) in m32.Net.named_parameters())
                {
                    if (p.grad is null) continue;
                    var gr64 = p64[n].grad!;
                    double rel = p.grad.to(ScalarType.Float64).sub(gr64).norm().item<double>() / (gr64.norm().item<double>() + 1e-12);
                    if (!(rel <= worst)) { worst = rel; worstName = n; }
                }
                Console.WriteLine($"{(cascade ? "lowdiff" : "edm")} r={r} b={b} threads {get_num_threads()}: max |D32-D64| {outErr:G3}, worst grad rel err {worst:G3} ({worstName})");
                m32.Net.zero_grad(); m64.Net.zero_grad();
            }
        }
    }
}

public static class FlopsReport
{
    public static void Run()
    {
        var edm = DiffusionModel.NetConfig(new DiffusionConfig { Net = new UNetConfig() });
        var low = DiffusionModel.NetConfig(new DiffusionConfig { Net = new UNetConfig(), Cascade = [8, 16, 32], StageProbs = [0.3, 0.3, 0.4], StageLossWeights = [1, 1, 1] });
        foreach (int r in new[] { 8, 16, 32 })
            Console.WriteLine(FormattableString.Invariant($"r={r}: edm {Flops.Forward(edm, r) / 1e9:F4} GFLOP, lowdiff {Flops.Forward(low, r) / 1e9:F4} GFLOP per image (forward)"));
    }
}

public static class ProfileBf16
{
    /// <summary>Forward-only timings of the default UNet and its op kinds in fp32 and bf16 (inference).</summary>
    public static void Run(Args o)
    {
        int b = o.Int("batch", 64), reps = o.Int("reps", 3);
        using var g = new Generator(0);
        using var m = new DiffusionModel(new DiffusionConfig { Net = new UNetConfig() }, g);
        using var m16 = new DiffusionModel(new DiffusionConfig { Net = new UNetConfig() }, g);
        m16.ToBFloat16();
        using var ng = no_grad();
        foreach (int r in new[] { 32, 8 })
        {
            var x = randn([b, 1, r, r], generator: g);
            var s = full([b], 1.0f);
            double t32 = Profile.Time(() => { using var sc = NewDisposeScope(); m.Precond.Denoise(x, s, null); }, reps);
            double t16 = Profile.Time(() => { using var sc = NewDisposeScope(); m16.Precond.Denoise(x, s, null); }, reps);
            var xl = Gen.Pipeline.Models.Layout.ChannelsLast(x);
            double t16l = Profile.Time(() => { using var sc = NewDisposeScope(); m16.Precond.Denoise(xl, s, null); }, reps);
            using var d16 = m16.Precond.Denoise(x, s, null); using var d16l = m16.Precond.Denoise(xl, s, null); using var d32 = m.Precond.Denoise(x, s, null);
            double e16 = ((d16 - d32).abs().max() / d32.abs().max()).item<float>(), e16l = ((d16l - d32).abs().max() / d32.abs().max()).item<float>();
            Console.WriteLine($"net r={r} b={b}: fp32 {t32:F0} ms, bf16 {t16:F0} ms, bf16 NHWC {t16l:F0} ms; ratio bf16 {t32 / t16:F2}, NHWC {t32 / t16l:F2}; max rel err vs fp32: bf16 {e16:G3}, NHWC {e16l:G3}");
        }
        foreach (var dt in new[] { ScalarType.Float32, ScalarType.BFloat16 })
        {
            using var scope = NewDisposeScope();
            var h16 = randn([b, 16, 32, 32], generator: g).to(dt);
            var h48 = randn([b, 48, 32, 32], generator: g).to(dt);
            var h64 = randn([b, 64, 8, 8], generator: g).to(dt);
            var conv16 = nn.Conv2d(16, 16, 3, padding: 1).to(dt);
            var conv48 = nn.Conv2d(48, 16, 3, padding: 1).to(dt);
            var conv64 = nn.Conv2d(64, 64, 3, padding: 1).to(dt);
            var narrow = Gen.Pipeline.Models.Conv.Conv2d(16, 1, 3, padding: 1).to(dt);
            var w16 = ones(16).to(dt); var b16 = zeros(16).to(dt);
            var emb = randn([b, 64], generator: g).to(dt);
            var lin = nn.Linear(64, 16).to(dt);
            void T(string name, Func<Tensor> f) => Console.WriteLine($"{dt,-9} {name,-24} {Profile.Time(() => { using var s = NewDisposeScope(); f(); }, reps),8:F1} ms");
            T("conv3x3 16->16 @32", () => conv16.call(h16));
            T("conv3x3 48->16 @32", () => conv48.call(h48));
            T("conv3x3 64->64 @8", () => conv64.call(h64));
            T("narrow conv 16->1 @32", () => narrow.call(h16));
            T("group_norm 16@32", () => nn.functional.group_norm(h16, 4, w16, b16, 1e-6));
            T("silu 16@32", () => nn.functional.silu(h16));
            T("avgpool 16@32", () => nn.functional.avg_pool2d(h16, 2));
            T("repeat_interleave 16@32", () => h16.repeat_interleave(2, 2).repeat_interleave(2, 3));
            T("expand-reshape up 16@32", () => LowDiffCascade.Up(h16));
            T("add+mul 16@32", () => h16.add(h16).mul(0.7));
            T("cat 16+32@32", () => cat([h16, h48], 1));
            T("linear 64->16", () => lin.call(emb));
        }
    }
}

public static class UpAB
{
    public static void Run(Args o)
    {
        using var g = new Generator(0);
        foreach (var dt in new[] { ScalarType.Float32, ScalarType.BFloat16 })
        {
            using var scope = NewDisposeScope();
            var h = randn([64, 32, 16, 16], generator: g).to(dt);
            var a = new List<double>(); var b = new List<double>(); var c = new List<double>();
            for (int i = 0; i < 15; i++)
            {
                a.Add(Profile.Time(() => { using var s = NewDisposeScope(); h.repeat_interleave(2, 2).repeat_interleave(2, 3); }, 1));
                b.Add(Profile.Time(() => { using var s = NewDisposeScope(); LowDiffCascade.Up(h); }, 1));
                c.Add(Profile.Time(() => { using var s = NewDisposeScope(); nn.functional.interpolate(h, scale_factor: [2, 2], mode: InterpolationMode.Nearest); }, 1));
            }
            Console.WriteLine($"{dt}: repeat_interleave {Speed.Median(a):F2} ms, expand-reshape {Speed.Median(b):F2} ms, interpolate {Speed.Median(c):F2} ms");
        }
    }
}

public static class ElemAB
{
    public static void Run(Args o)
    {
        using var g = new Generator(0);
        using var scope = NewDisposeScope();
        var ops = new (string, Func<Tensor, Tensor, Tensor>)[]
        {
            ("add", (h, p) => h.add(h)),
            ("mul scalar", (h, p) => h.mul(0.7071)),
            ("add bcast", (h, p) => h.add(p)),
            ("silu", (h, p) => nn.functional.silu(h)),
            ("group_norm", (h, p) => nn.functional.group_norm(h, 8, null, null, 1e-6)),
            ("avg_pool", (h, p) => nn.functional.avg_pool2d(h, 2)),
            ("reshape-mean", (h, p) => h.reshape(64, 32, 8, 2, 8, 2).mean([3, 5])),
            ("reshape-sum", (h, p) => h.reshape(64, 32, 8, 2, 8, 2).sum([3, 5]).mul_(0.25)),
            ("conv dw pool", (h, p) => nn.functional.conv2d(h, full([32, 1, 2, 2], 0.25, h.dtype), strides: [2, 2], groups: 32)),
            ("cat", (h, p) => cat([h, h], 1)),
            ("up repeat_il", (h, p) => h.repeat_interleave(2, 2).repeat_interleave(2, 3)),
            ("up convT dw", (h, p) => nn.functional.conv_transpose2d(h, ones([32, 1, 2, 2], h.dtype), strides: [2, 2], groups: 32)),
            ("to fp32", (h, p) => h.to(ScalarType.Float32)),
        };
        var h32 = randn([64, 32, 16, 16], generator: g);
        var p32 = randn([64, 32, 1, 1], generator: g);
        var h16 = h32.to(ScalarType.BFloat16); var p16 = p32.to(ScalarType.BFloat16);
        foreach (var (name, f) in ops)
        {
            var a = new List<double>(); var b = new List<double>();
            for (int i = 0; i < 11; i++)
            {
                a.Add(Profile.Time(() => { using var s = NewDisposeScope(); f(h32, p32); }, 1));
                b.Add(Profile.Time(() => { using var s = NewDisposeScope(); f(h16, p16); }, 1));
            }
            Console.WriteLine($"{name,-12} fp32 {Speed.Median(a):F2} ms  bf16 {Speed.Median(b):F2} ms");
        }
    }
}

public static class BlockProfile
{
    /// <summary>Per-block forward time of the default UNet (fp32 vs bf16), via the private block lists.</summary>
    public static void Run(Args o)
    {
        int b = o.Int("batch", 64), r = o.Int("res", 32), reps = o.Int("reps", 5);
        using var g = new Generator(0);
        using var ng = no_grad();
        var cfg = new DiffusionConfig { Net = new UNetConfig() };
        foreach (var dt in new[] { ScalarType.Float32, ScalarType.BFloat16 })
        {
            using var m = new DiffusionModel(cfg, g);
            if (dt == ScalarType.BFloat16) m.ToBFloat16();
            var enc = (List<(string Name, TorchSharp.torch.nn.Module M)>)typeof(SongUNet).GetField("_enc", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!.GetValue(m.Net)!;
            var dec = (List<(string Name, TorchSharp.torch.nn.Module M)>)typeof(SongUNet).GetField("_dec", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!.GetValue(m.Net)!;
            using var scope = NewDisposeScope();
            var emb = randn([b, 64], generator: g).to(dt);
            var h = randn([b, 1, r, r], generator: g).to(dt);
            var skips = new List<Tensor>();
            var times = new List<(string, double)>();
            double total = 0;
            foreach (var (name, mod) in enc)
            {
                Tensor input = h;
                Tensor? outp = null;
                double t = Profile.Time(() => { outp?.Dispose(); outp = mod is UNetBlock blk ? blk.call(input, emb) : ((TorchSharp.torch.nn.Module<Tensor, Tensor>)mod).call(input); }, reps);
                h = outp!; skips.Add(h); times.Add((name, t)); total += t;
            }
            foreach (var (name, mod) in dec)
            {
                if (mod is not UNetBlock blk) continue;
                if (h.shape[1] != blk.InChannels) { h = cat([h, skips[^1]], 1); skips.RemoveAt(skips.Count - 1); }
                Tensor input = h;
                Tensor? outp = null;
                double t = Profile.Time(() => { outp?.Dispose(); outp = blk.call(input, emb); }, reps);
                h = outp!; times.Add((name, t)); total += t;
            }
            Console.WriteLine($"{dt} r={r} b={b}: total over blocks {total:F0} ms");
            foreach (var (n, t) in times) Console.WriteLine($"  {n,-20} {t,8:F1} ms");
        }
    }
}

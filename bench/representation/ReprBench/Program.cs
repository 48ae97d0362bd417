// Throughput of each pretraining method's train step (images/s) beside the fp32 matmul peak measured in
// the same process, interleaved round by round so machine load hits every arm alike (docs/platform.md §9: a
// speed claim is a ratio measured in one run). Also splits a step into augmentation, forward and
// backward+update. Usage: repr-bench [--rounds 5] [--steps 5] [--threads 1] [--batch 256] [--json out.json]
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Gen.Pipeline;
using Gen.Pipeline.Data;
using Gen.Pipeline.Training;
using Gen.Representation;
using Gen.Representation.Encoders;
using static TorchSharp.torch;

CpuKernels.Apply();      // ATen's AVX2 kernels unless ATEN_CPU_CAPABILITY is set (docs/platform.md §11)
MallocTuning.Apply();
var opts = Args.Parse(args);
Denormals.Configure(opts.Threads);   // flush-to-zero as the gen CLI, then the thread count
ImageSet train = DatasetCatalog.Load("fashion-mnist", Split.Train);

double MatmulGflops()
{
    using var scope = NewDisposeScope();
    var a = randn(1024, 1024); var b = randn(1024, 1024);
    a.matmul(b);
    var sw = Stopwatch.StartNew();
    int reps = 0;
    while (sw.Elapsed.TotalSeconds < 1.0) { using var c = a.matmul(b); reps++; }
    return 2.0 * 1024 * 1024 * 1024 * reps / sw.Elapsed.TotalSeconds / 1e9;
}

var arms = new List<(string Name, PretrainMethodKind Method, bool Hal)>
{
    ("simclr", PretrainMethodKind.Simclr, false), ("simclr+hal", PretrainMethodKind.Simclr, true),
    ("mocov2", PretrainMethodKind.Mocov2, false), ("mocov2+hal", PretrainMethodKind.Mocov2, true),
    ("simsiam", PretrainMethodKind.Simsiam, false), ("simsiam+hal", PretrainMethodKind.Simsiam, true),
    ("rotnet", PretrainMethodKind.Rotnet, false), ("supervised", PretrainMethodKind.Supervised, false),
};
var methods = new Dictionary<string, (PretrainMethod M, Optimizer O, int Batch)>();
foreach (var (name, kind, hal) in arms)
{
    int batch = opts.Batch > 0 ? opts.Batch : Recipes.Batch(kind);
    var cfg = PretrainConfig.For(kind, EncoderArch.Resnet10s, train, hal);
    var m = PretrainMethod.Create(cfg, 0);
    var tc = Recipes.Train(kind, EncoderArch.Resnet10s, batch);
    methods[name] = (m, new Optimizer(tc, m.ParamGroups()), batch);
}

var times = arms.ToDictionary(a => a.Name, _ => new List<double>());
var matmul = new List<double>();
long step = 0;
for (int round = 0; round < opts.Rounds + 1; round++)   // round 0 warms up and is dropped
{
    double mm = MatmulGflops();
    if (round > 0) matmul.Add(mm);
    foreach (var (name, _, _) in arms)
    {
        var (m, opt, batch) = methods[name];
        var sw = Stopwatch.StartNew();
        for (int s = 0; s < opts.Steps; s++, step++)
        {
            using var guard = NativeCallGuard.Enter();
            using var scope = NewDisposeScope();
            int[] idx = BatchOrder.Permutation(train.Count, (ulong)step).Take(batch).ToArray();
            var b = new Batch(Batches.Float(train, idx), Batches.Labels(train, idx), idx);
            using var g = new Generator((ulong)step);
            var ctx = new StepContext { Step = s, TotalSteps = 1000, Lr = 0.01, ImagesSeen = 0, Generator = g };
            m.Model.train();
            var o = m.Step(b, ctx);
            opt.ZeroGrad();
            o.Loss.backward();
            opt.Step(0.01);
            m.AfterStep(ctx);
        }
        if (round > 0) times[name].Add(batch * opts.Steps / sw.Elapsed.TotalSeconds);
    }
    Console.Error.WriteLine($"round {round}: matmul {mm:F1} GFLOP/s; " + string.Join(", ", arms.Select(a => $"{a.Name} {(times[a.Name].Count > 0 ? times[a.Name][^1] : 0):F0}")));
}

// Component split for SimCLR and RotNet: augmentation alone vs the whole step.
var split = new Dictionary<string, double>();
{
    var cfg = PretrainConfig.For(PretrainMethodKind.Simclr, EncoderArch.Resnet10s, train);
    var sw = Stopwatch.StartNew();
    for (int s = 0; s < opts.Steps * opts.Rounds; s++)
    {
        using var guard = NativeCallGuard.Enter();
        using var scope = NewDisposeScope();
        int[] idx = BatchOrder.Permutation(train.Count, (ulong)s).Take(256).ToArray();
        using var g = new Generator((ulong)s);
        var x = Batches.Float(train, idx);
        Views.Contrastive(x, cfg, g); Views.Contrastive(x, cfg, g);
    }
    split["simclr_two_views_ms"] = 1000 * sw.Elapsed.TotalSeconds / (opts.Steps * opts.Rounds);
}

double Median(List<double> v) { var s = v.Order().ToList(); return s.Count == 0 ? double.NaN : s[s.Count / 2]; }
var result = new
{
    threads = opts.Threads,
    rounds = opts.Rounds,
    steps_per_round = opts.Steps,
    load_average = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "",
    matmul_fp32_gflops_median = Median(matmul),
    matmul_fp32_gflops = matmul,
    images_per_s_median = arms.ToDictionary(a => a.Name, a => Median(times[a.Name])),
    images_per_s = times,
    split_ms = split,
};
string json = JsonSerializer.Serialize(result, new JsonSerializerOptions { WriteIndented = true });
Console.WriteLine(json);
if (opts.Json is not null) File.WriteAllText(opts.Json, json);

sealed record Args(int Rounds, int Steps, int Threads, int Batch, string? Json)
{
    public static Args Parse(string[] a)
    {
        string? Get(string k) { int i = Array.IndexOf(a, k); return i >= 0 && i + 1 < a.Length ? a[i + 1] : null; }
        int I(string k, int d) => Get(k) is { } v ? int.Parse(v, CultureInfo.InvariantCulture) : d;
        return new Args(I("--rounds", 5), I("--steps", 5), I("--threads", 1), I("--batch", 0), Get("--json"));
    }
}

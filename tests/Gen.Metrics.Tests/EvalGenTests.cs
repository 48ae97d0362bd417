// One-pass evaluation and its bootstrap intervals, FID against N with its extrapolation, statistics
// shards and their exact merge, and the provenance check between statistics files.
using System.Text.Json;
using Gen.Cli;
using Gen.Metrics.Features;
using Gen.Metrics.Sources;
using Gen.Metrics.Stats;
using Gen.Pipeline;
using Gen.Pipeline.Imaging;
using static TorchSharp.torch;

namespace Gen.Metrics.Tests;

public sealed class EvalGenTests
{
    private static readonly ExtractorInfo Info = new()
    {
        Kind = ExtractorKind.Fmnist, Network = "test", Layer = "test", Dims = 8, WeightsSha256 = "00", StandardWeights = false, Preprocessing = "none",
    };

    private static (Tensor Fake, Tensor Real) Sets(int m, int n, ulong seed)
    {
        Tensor real = randn([n, 8], generator: new Generator(seed));
        Tensor fake = randn([m, 8], generator: new Generator(seed + 1)) * 0.8 + 0.4;   // a different distribution: every metric away from its ideal
        return (fake, real);
    }

    [Fact]
    public void Point_Values_EqualTheSingleMetricFunctions()
    {
        var (fake, real) = Sets(300, 400, 1);
        using (fake) using (real)
        {
            var o = new EvalGenOptions { Metrics = ["fid", "kid", "pr", "dc"], KidSubsets = 10, KidSubsetSize = 100 };
            var (values, _) = EvalGen.Compute(fake, null, real, Info, o);
            double V(string name) => values.Single(v => v.Name == name).Value;
            Assert.Equal(Frechet.Distance(EvalGen.StatsOf(fake), EvalGen.StatsOf(real)).Distance, V("FD-FMNIST"), 12);
            Assert.Equal(Kid.Compute(fake, real, 10, 100).Mean, V("KD-FMNIST"), 12);
            PrdcResult p = Manifold.Compute(real, fake);
            Assert.Equal((p.Precision, p.Recall, p.Density, p.Coverage), (V("precision"), V("recall"), V("density"), V("coverage")));
            Assert.All(values, v => Assert.Null(v.Low));
        }
    }

    [Fact]
    public void Bootstrap_IntervalsContainTheFullSetValue_AndShrinkWithN()
    {
        var o = new EvalGenOptions { Metrics = ["fid", "kid", "pr", "dc"], KidSubsets = 10, KidSubsetSize = 100, Bootstrap = 60, BootstrapSeed = 3 };
        Dictionary<string, MetricValue> Run(int n)
        {
            var (fake, real) = Sets(n, n, 7);
            using (fake) using (real) return EvalGen.Compute(fake, null, real, Info, o).Values.ToDictionary(v => v.Name);
        }
        var small = Run(200);
        var large = Run(1600);
        foreach (var (name, v) in small)
        {
            Assert.True(v.Low <= v.Value && v.Value <= v.High, $"{name}: {v.Value} outside [{v.Low}, {v.High}] at N = 200");
            var w = large[name];
            Assert.True(w.Low <= w.Value && w.Value <= w.High, $"{name}: {w.Value} outside [{w.Low}, {w.High}] at N = 1600");
            Assert.True(w.High - w.Low < v.High - v.Low, $"{name}: interval at N = 1600 ({w.High - w.Low}) is not narrower than at N = 200 ({v.High - v.Low})");
        }
    }

    [Fact]
    public void Bootstrap_IsDeterministicForASeed()
    {
        var (fake, real) = Sets(150, 150, 2);
        using (fake) using (real)
        {
            var o = new EvalGenOptions { Metrics = ["fid", "pr"], Bootstrap = 20, BootstrapSeed = 9 };
            var a = EvalGen.Compute(fake, null, real, Info, o).Values;
            var b = EvalGen.Compute(fake, null, real, Info, o).Values;
            Assert.Equal(a, b);
        }
    }

    [Theory]
    [InlineData("fid,bogus", "unknown metric 'bogus'")]
    [InlineData(",", "--metrics is empty")]
    public void BadMetricList_NamesTheProblem(string text, string expected) =>
        Assert.Contains(expected, Assert.Throws<GenInputException>(() => EvalGenOptions.Parse(text)).Message);

    [Fact]
    public void FidAgainstN_LineThroughInverseN_RecoversItsIntercept()
    {
        var points = new[] { 500, 1000, 2000, 5000 }.Select(n => new FidNPoint(n, 3.0 + 1200.0 / n)).ToList();
        var (inf, slope, r2) = FidVsN.Fit(points);
        Assert.Equal(3.0, inf, 10);
        Assert.Equal(1200.0, slope, 8);
        Assert.Equal(1.0, r2, 12);
        Assert.Equal(new[] { 500, 1000, 5000 }, FidVsN.Parse("5000, 500,1000,500"));
        Assert.Contains("at least two", Assert.Throws<GenInputException>(() => FidVsN.Parse("500")).Message);
        Assert.Contains("--n-curve", Assert.Throws<GenInputException>(() => FidVsN.Parse("500,x")).Message);
    }

    [Fact]
    public void FidAgainstN_OnRealFeatures_FallsWithN()
    {
        // Same distribution: FID is pure small-N bias, so it must fall as N grows and FID∞ sit near 0.
        using var fake = randn([4000, 8], generator: new Generator(11));
        using var real = randn([20000, 8], generator: new Generator(12));
        var points = FidVsN.Points(fake, EvalGen.StatsOf(real), [250, 500, 1000, 4000], seed: 0);
        Assert.True(points[0].Value > points[^1].Value, string.Join(", ", points));
        var (inf, _, _) = FidVsN.Fit(points);
        Assert.True(Math.Abs(inf) < points[0].Value / 4, $"FID∞ {inf} vs FID at 250 {points[0].Value}");
    }

    [Fact]
    public void Merge_OfShards_EqualsOnePass()
    {
        using var x = randn([1001, 16], generator: new Generator(5)) * 3 + 100;   // a large mean: the case that breaks naive sums
        GaussianStats whole = EvalGen.StatsOf(x);
        var parts = new[] { (0, 333), (333, 2), (335, 666) }.Select(p => EvalGen.StatsOf(x.narrow(0, p.Item1, p.Item2))).ToList();
        GaussianStats merged = GaussianStats.Combine(parts);
        Assert.Equal(1001, merged.Count);
        for (int i = 0; i < whole.Mu.Length; i++) Assert.Equal(whole.Mu[i], merged.Mu[i], 1e-11);
        double scale = whole.Sigma.Max(Math.Abs);
        for (int i = 0; i < whole.Sigma.Length; i++) Assert.True(Math.Abs(whole.Sigma[i] - merged.Sigma[i]) <= 1e-12 * scale, $"sigma[{i}]");
        Assert.Contains("at least 2", Assert.Throws<GenInputException>(() => GaussianStats.Combine([EvalGen.StatsOf(x) with { Count = 1 }])).Message);
    }

    [Fact]
    public void Shard_Ranges_CoverEveryImageOnce()
    {
        foreach (int total in new[] { 10, 11, 1000, 1001 })
            foreach (int n in new[] { 1, 3, 7 })
            {
                var covered = Enumerable.Range(0, n).SelectMany(k => { var (s, c) = new Shard(k, n).Range(total); return Enumerable.Range(s, c); }).ToList();
                Assert.Equal(Enumerable.Range(0, total), covered);
            }
        Assert.Contains("--shard", Assert.Throws<GenInputException>(() => Shard.Parse("3/3")).Message);
        Assert.Contains("--shard", Assert.Throws<GenInputException>(() => Shard.Parse("a/3")).Message);
    }

    private static (int Code, string Out, string Err) Run(params string[] args) => GenRun.Run(args);

    private static string Samples(TempDir tmp, string name, int n, ulong seed)
    {
        string folder = tmp.File(name);
        Directory.CreateDirectory(folder);
        for (int i = 0; i < n; i++)
            ImageCodec.WritePng(Path.Combine(folder, $"{i:D4}.png"), Formula.Images((ulong)i + seed, 1, 1, 28, 28), 1, 28, 28);
        return folder;
    }

    [Fact]
    public void Cli_ShardsMergeToTheOnePassStatistics_AndBadShardSetsAreRefused()
    {
        using var tmp = new TempDir();
        string folder = Samples(tmp, "s", 30, 0);
        for (int k = 0; k < 3; k++)
        {
            var r = Run("stats", folder, "--extractor", "fmnist", "--shard", $"{k}/3", "--out", tmp.File($"p{k}.npz"));
            Assert.True(r.Code == 0, r.Err);
        }
        Assert.Equal(0, Run("stats", folder, "--extractor", "fmnist", "--out", tmp.File("one.npz")).Code);
        var merge = Run("stats", "merge", tmp.File("p2.npz"), tmp.File("p0.npz"), tmp.File("p1.npz"), "--out", tmp.File("all.npz"));
        Assert.True(merge.Code == 0, merge.Err);
        GaussianStats one = GaussianStats.Load(tmp.File("one.npz")), all = GaussianStats.Load(tmp.File("all.npz"));
        Assert.Equal(30, all.Count);
        for (int i = 0; i < one.Mu.Length; i++) Assert.Equal(one.Mu[i], all.Mu[i], 1e-9);
        double scale = one.Sigma.Max(Math.Abs);
        Assert.All(one.Sigma.Zip(all.Sigma), t => Assert.True(Math.Abs(t.First - t.Second) <= 1e-9 * scale));
        Assert.Equal("fmnist", all.Provenance!["extractor"]!["name"]!.GetValue<string>());
        Assert.Equal(30, all.Provenance["n"]!.GetValue<long>());

        var missing = Run("stats", "merge", tmp.File("p0.npz"), tmp.File("p2.npz"), "--out", tmp.File("x.npz"));
        Assert.Equal(2, missing.Code);
        Assert.Contains("1/3 missing", missing.Err);
        var twice = Run("stats", "merge", tmp.File("p0.npz"), tmp.File("p0.npz"), tmp.File("p1.npz"), tmp.File("p2.npz"), "--out", tmp.File("x.npz"));
        Assert.Equal(2, twice.Code);
        Assert.Contains("given twice", twice.Err);
        string other = Samples(tmp, "t", 31, 100);
        Assert.Equal(0, Run("stats", other, "--extractor", "fmnist", "--shard", "1/3", "--out", tmp.File("q1.npz")).Code);
        var mixed = Run("stats", "merge", tmp.File("p0.npz"), tmp.File("q1.npz"), tmp.File("p2.npz"), "--out", tmp.File("x.npz"));
        Assert.Equal(2, mixed.Code);
        Assert.Contains("different inputs", mixed.Err);
        // --n limits a folder first; the shards split what is left.
        var limited = Run("stats", folder, "--extractor", "fmnist", "--n", "20", "--shard", "1/2", "--out", tmp.File("l1.npz"));
        Assert.True(limited.Code == 0, limited.Err);
        Assert.Equal(10, GaussianStats.Load(tmp.File("l1.npz")).Count);
        var notShard = Run("stats", "merge", tmp.File("one.npz"), "--out", tmp.File("x.npz"));
        Assert.Equal(2, notShard.Code);
        Assert.Contains("not a shard", notShard.Err);
        Assert.False(File.Exists(tmp.File("x.npz")));
    }

    [Fact]
    public void Fid_RefusesStatisticsFromDifferentFeatureSpaces()
    {
        using var tmp = new TempDir();
        var mu = new double[4];
        var sigma = Enumerable.Range(0, 16).Select(i => i % 5 == 0 ? 1.0 : 0.0).ToArray();
        JsonObjectOf(out var provA, "pytorch-fid: bilinear");
        JsonObjectOf(out var provB, "torch-fidelity: bilinear (TF1 compatible)");
        new GaussianStats(mu, sigma, 10) { Provenance = provA }.Save(tmp.File("a.npz"));
        new GaussianStats(mu, sigma, 10) { Provenance = provB }.Save(tmp.File("b.npz"));
        new GaussianStats(mu, sigma, 10).Save(tmp.File("plain.npz"));   // a pytorch-fid file: nothing to compare
        var r = Run("fid", tmp.File("a.npz"), tmp.File("b.npz"));
        Assert.Equal(2, r.Code);
        Assert.Contains("different feature spaces (preprocessing", r.Err);
        Assert.Contains("a.npz", r.Err);
        Assert.Contains("b.npz", r.Err);
        Assert.Equal(0, Run("fid", tmp.File("a.npz"), tmp.File("plain.npz")).Code);
        Assert.Equal(0, Run("fid", tmp.File("a.npz"), tmp.File("a.npz")).Code);
        // The record survives the .npz round trip, beside pytorch-fid's two arrays.
        var arrays = Npz.Read(tmp.File("a.npz"));
        Assert.Equal(["gen_count", "gen_provenance", "mu", "sigma"], arrays.Keys.Order());
        Assert.Equal("|u1", arrays["gen_provenance"].Descr);
    }

    private static void JsonObjectOf(out System.Text.Json.Nodes.JsonObject o, string preprocessing) =>
        o = StatsProvenance.Of(Info with { Dims = 4, Preprocessing = preprocessing }, "x", "x", "sha256:0", 10, 10, null, 0);

    [Fact]
    public void Cli_EvalGen_OnePassRecord()
    {
        using var tmp = new TempDir();
        string a = Samples(tmp, "a", 40, 0), b = Samples(tmp, "b", 50, 1000);
        var r = Run("eval-gen", a, b, "--extractor", "fmnist", "--metrics", "fid,pr,dc,kid", "--subset-size", "30", "--subsets", "5", "--bootstrap", "20", "--json");
        Assert.True(r.Code == 0, r.Err);
        using var doc = JsonDocument.Parse(r.Out);
        var values = doc.RootElement.GetProperty("values").EnumerateArray().ToDictionary(v => v.GetProperty("name").GetString()!);
        Assert.Equal(["FD-FMNIST", "KD-FMNIST", "coverage", "density", "precision", "recall"], values.Keys.Order());
        Assert.True(values["precision"].GetProperty("low").GetDouble() <= values["precision"].GetProperty("value").GetDouble());
        Assert.Equal(40, doc.RootElement.GetProperty("a").GetProperty("n").GetInt32());
        Assert.Equal("fmnist", doc.RootElement.GetProperty("extractor").GetProperty("name").GetString());
        var fid = Run("fid", a, b, "--extractor", "fmnist", "--json");
        using var fidDoc = JsonDocument.Parse(fid.Out);
        Assert.Equal(fidDoc.RootElement.GetProperty("value").GetDouble(), values["FD-FMNIST"].GetProperty("value").GetDouble(), 9);

        var isFmnist = Run("eval-gen", a, b, "--extractor", "fmnist", "--metrics", "is");
        Assert.Equal(2, isFmnist.Code);
        Assert.Contains("Inception", isFmnist.Err);
        var tooFew = Run("eval-gen", Samples(tmp, "c", 3, 7), b, "--extractor", "fmnist", "--metrics", "pr");
        Assert.Equal(2, tooFew.Code);
        Assert.Contains("k = 3", tooFew.Err);
        var stats = Run("eval-gen", a, tmp.File("none.npz"), "--extractor", "fmnist");
        Assert.Equal(2, stats.Code);
        Assert.Contains(".npz", stats.Err);
    }

    [Fact]
    public void Pipeline_EvalGenStage_WritesItsRecord_AndARerunIsCached()
    {
        using var tmp = new TempDir();
        string a = Samples(tmp, "a", 30, 0), b = Samples(tmp, "b", 40, 500);
        File.WriteAllText(tmp.File("p.json"), $$"""
        { "stages": [ { "name": "ev", "kind": "eval-gen", "inputs": { "a": "{{a}}", "b": "{{b}}" },
                        "params": { "metrics": "pr,fid", "extractor": "fmnist", "bootstrap": 20 } } ] }
        """);
        var first = Run("run", tmp.File("p.json"), "--out", tmp.File("out"));
        Assert.True(first.Code == 0, first.Err);
        string eval = Directory.GetFiles(tmp.File("out"), "eval.json", SearchOption.AllDirectories).Single();
        using var doc = JsonDocument.Parse(File.ReadAllText(eval));
        Assert.Equal(3, doc.RootElement.GetProperty("values").GetArrayLength());   // FD-FMNIST, precision, recall
        DateTime written = File.GetLastWriteTimeUtc(eval);
        var second = Run("run", tmp.File("p.json"), "--out", tmp.File("out"), "--dry-run", "--json");
        Assert.True(second.Code == 0, second.Err);
        Assert.Contains("cached", second.Out);
        Assert.Equal(written, File.GetLastWriteTimeUtc(eval));
    }
}

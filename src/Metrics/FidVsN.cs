// FID against the number of generated images, and its extrapolation to infinitely many (Chong & Forsyth,
// "Effectively Unbiased FID and Inception Score and where to find them", CVPR 2020): FID_N is, to first
// order, FID∞ + c/N, so a least-squares line through (1/N, FID_N) meets the axis at FID∞. Chong &
// Forsyth draw 15 values of N between 5,000 and 50,000; Gen takes the user's list (`gen fid A B
// --n-curve 500,1000,2000,5000`). A's features are extracted once for the largest N; each point uses
// a random subset of that size (without replacement, seeded), B's statistics are fixed (docs/methods/metrics.md
// §15).
using System.Diagnostics;
using Gen.Metrics.Features;
using Gen.Metrics.Sources;
using Gen.Metrics.Stats;
using Gen.Pipeline;
using static TorchSharp.torch;

namespace Gen.Metrics;

public sealed record FidNPoint(int N, double Value);

public sealed record FidVsNResult(string Metric, IReadOnlyList<FidNPoint> Points, double Infinity, double Slope, double RSquared,
                                  InputRecord A, InputRecord B, ExtractorRecord Extractor, IReadOnlyList<string> Warnings, double ElapsedS);

public static class FidVsN
{
    public static IReadOnlyList<int> Parse(string text)
    {
        var ns = new List<int>();
        foreach (string part in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (!int.TryParse(part, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out int n) || n < 2)
                throw new GenInputException($"--n-curve takes image counts of at least 2 separated by commas (e.g. 500,1000,2000,5000), got '{text}'");
            ns.Add(n);
        }
        ns = ns.Distinct().Order().ToList();
        if (ns.Count < 2) throw new GenInputException($"--n-curve needs at least two different counts to fit a line, got '{text}'");
        return ns;
    }

    /// <summary>Least squares of value = a + b·(1/N) (closed form of a two-parameter line): returns (a, b, R²).</summary>
    public static (double Intercept, double Slope, double RSquared) Fit(IReadOnlyList<FidNPoint> points)
    {
        double[] x = points.Select(p => 1.0 / p.N).ToArray(), y = points.Select(p => p.Value).ToArray();
        double mx = x.Average(), my = y.Average();
        double sxy = x.Zip(y).Sum(t => (t.First - mx) * (t.Second - my)), sxx = x.Sum(v => (v - mx) * (v - mx));
        double b = sxy / sxx, a = my - b * mx;
        double ssRes = x.Zip(y).Sum(t => Math.Pow(t.Second - (a + b * t.First), 2)), ssTot = y.Sum(v => (v - my) * (v - my));
        return (a, b, ssTot == 0 ? 1 : 1 - ssRes / ssTot);
    }

    /// <summary>FID of random subsets of <paramref name="fake"/> (N×d) of each size against fixed reference statistics.</summary>
    public static List<FidNPoint> Points(Tensor fake, GaussianStats reference, IReadOnlyList<int> ns, long seed)
    {
        long available = fake.shape[0];
        if (ns.Max() > available)
            throw new GenInputException($"--n-curve asks for {ns.Max()} images but A has {available}; use counts up to {available} or more images");
        var rng = new Random((int)(seed & 0x7fffffff) ^ 0xf1d);
        var points = new List<FidNPoint>();
        foreach (int n in ns)
        {
            using var scope = NewDisposeScope();
            long[] idx = Enumerable.Range(0, (int)available).OrderBy(_ => rng.Next()).Take(n).Select(i => (long)i).ToArray();
            GaussianStats s = EvalGen.StatsOf(fake.index_select(0, tensor(idx)));
            points.Add(new FidNPoint(n, Frechet.Distance(s, reference).Distance));
        }
        return points;
    }
}

public sealed partial class MetricJobs
{
    public FidVsNResult FidCurveOverN(string a, string b, IReadOnlyList<int> ns, int? nA, int? nB, long seed)
    {
        var clock = Stopwatch.StartNew();
        if (a.EndsWith(".npz", StringComparison.OrdinalIgnoreCase))
            throw new GenInputException($"--n-curve needs A's images ('{a}' holds statistics); pass a folder or a generator checkpoint");
        using IFeatureExtractor e = Open(null, Preprocessing.PytorchFid);
        using MetricInput ia = MetricInput.Resolve(a, nA ?? (MetricInput.IsCheckpoint(a) ? ns.Max() : null), seed, Log);
        using Tensor fa = FeatureRunner.Collect(e, ia.Images!, Options.Batch, Progress, "A", Cancel);
        var (sb, rb) = Side(b, e, nB, seed, "B");
        if (sb.Dims != e.Info.Dims)
            throw new GenInputException($"'{b}' has {sb.Dims}-d statistics but the {ExtractorRecord.Of(e.Info).Name} extractor gives {e.Info.Dims}; pass the matching --extractor/--dims");
        List<FidNPoint> points = FidVsN.Points(fa, sb, ns, seed);
        var (inf, slope, r2) = FidVsN.Fit(points);
        var ra = new InputRecord(a, Kind(ia), ia.Images!.Name, fa.shape[0], ia.Images.Notes.ToArray());
        var warnings = RankWarnings(e.Info.Dims, ra, rb);
        if (points.Any(p => p.N <= e.Info.Dims))
            warnings.Add($"counts at or below {e.Info.Dims} feature dimensions give rank-deficient covariances; the line is fitted through them anyway, drop them for a cleaner FID∞");
        return new FidVsNResult(e.Info.FrechetLabel, points, inf, slope, r2, ra, rb, ExtractorRecord.Of(e.Info), warnings, clock.Elapsed.TotalSeconds);
    }
}

// Streaming Gaussian statistics of features (pytorch-fid fid_score.py `calculate_activation_statistics`:
// mu = mean over rows, sigma = np.cov(rowvar=False), divisor N − 1, all in float64) without holding the
// N × d feature matrix: each batch adds to a running sum and a running sum of outer products, both float64
// (libtorch addmm, so d = 2048 costs one BLAS call per batch). Values are shifted by the first batch's
// mean before accumulating, the textbook remedy for the cancellation in Σxxᵀ − n·μμᵀ (Chan, Golub &
// LeVeque 1983, "shifted data"); the result equals the two-pass covariance to ~1e-13 relative.
using Gen.Pipeline;
using static TorchSharp.torch;

namespace Gen.Metrics.Stats;

/// <summary>Mean and covariance of a feature set, float64; sigma is d×d row-major. Provenance (what
/// made the statistics: extractor, preprocessing, input, N, shard) travels with them when known.</summary>
public sealed record GaussianStats(double[] Mu, double[] Sigma, long Count)
{
    public const string ProvenanceKey = "gen_provenance";   // UTF-8 JSON as a uint8 array; pytorch-fid reads mu and sigma only
    public const string CountKey = "gen_count";

    public int Dims => Mu.Length;

    public System.Text.Json.Nodes.JsonObject? Provenance { get; init; }

    /// <summary>Saves as pytorch-fid does (np.savez_compressed with mu and sigma), plus Gen's provenance
    /// and image count as extra members when known (readers of mu and sigma ignore them).</summary>
    public void Save(string path)
    {
        var arrays = new List<(string, NpyArray)> { ("mu", new NpyArray([Dims], Mu)), ("sigma", new NpyArray([Dims, Dims], Sigma)) };
        if (Provenance is not null)
        {
            arrays.Add((CountKey, new NpyArray([1], [Count])));
            arrays.Add((ProvenanceKey, NpyArray.Text(Provenance.ToJsonString())));
        }
        Npz.Write(path, arrays);
    }

    /// <summary>Loads pytorch-fid-style statistics, checking keys, shapes and finiteness.</summary>
    public static GaussianStats Load(string path)
    {
        var arrays = Npz.Read(path);
        if (!arrays.TryGetValue("mu", out NpyArray? mu) || !arrays.TryGetValue("sigma", out NpyArray? sigma))
            throw new GenInputException($"'{path}' has no float arrays 'mu' and 'sigma' (it holds: {string.Join(", ", arrays.Keys.DefaultIfEmpty("nothing usable"))}); write statistics with 'gen stats' or pytorch-fid --save-stats");
        if (mu.Shape.Length != 1 || sigma.Shape.Length != 2 || sigma.Shape[0] != mu.Shape[0] || sigma.Shape[1] != mu.Shape[0])
            throw new GenInputException($"'{path}' has mu of shape ({string.Join(", ", mu.Shape)}) and sigma of shape ({string.Join(", ", sigma.Shape)}); sigma must be d×d for a mu of length d");
        if (mu.Data.Any(v => !double.IsFinite(v)) || sigma.Data.Any(v => !double.IsFinite(v)))
            throw new GenInputException($"'{path}' holds NaN or infinite statistics; recompute them");
        long count = arrays.TryGetValue(CountKey, out NpyArray? c) && c.Data.Length == 1 ? (long)c.Data[0] : 0;
        System.Text.Json.Nodes.JsonObject? provenance = null;
        if (arrays.TryGetValue(ProvenanceKey, out NpyArray? p))
        {
            try { provenance = System.Text.Json.Nodes.JsonNode.Parse(p.AsText()) as System.Text.Json.Nodes.JsonObject; }
            catch (System.Text.Json.JsonException) { throw new GenInputException($"'{path}' has a damaged {ProvenanceKey} record; recompute the statistics with 'gen stats'"); }
        }
        return new GaussianStats(mu.Data, sigma.Data, count) { Provenance = provenance };
    }

    /// <summary>
    /// The statistics of the union of disjoint sets from the statistics of each (Chan, Golub & LeVeque's
    /// pairwise update for the mean and the centred scatter M2 = (n − 1)·Σ), in float64: equal to one
    /// pass over all rows up to summation order.
    /// </summary>
    public static GaussianStats Combine(IReadOnlyList<GaussianStats> parts)
    {
        if (parts.Count == 0) throw new ArgumentException("nothing to combine");
        int d = parts[0].Dims;
        long n = 0;
        var mean = new double[d];
        var m2 = new double[(long)d * d];
        foreach (GaussianStats p in parts)
        {
            if (p.Dims != d) throw new GenInputException($"statistics of {p.Dims} and {d} dimensions cannot be combined; compute every part with the same extractor");
            if (p.Count < 2) throw new GenInputException($"a part holds {p.Count} images; every part needs at least 2 (its covariance) and its count (statistics written by 'gen stats')");
            long nb = p.Count, nt = n + nb;
            var delta = new double[d];
            for (int i = 0; i < d; i++) delta[i] = p.Mu[i] - mean[i];
            double w = (double)n * nb / nt;
            for (int i = 0; i < d; i++)
            {
                long row = (long)i * d;
                for (int j = 0; j < d; j++) m2[row + j] += p.Sigma[row + j] * (nb - 1) + w * delta[i] * delta[j];
            }
            for (int i = 0; i < d; i++) mean[i] += delta[i] * nb / nt;
            n = nt;
        }
        for (long k = 0; k < m2.Length; k++) m2[k] /= n - 1;
        return new GaussianStats(mean, m2, n);
    }
}

public sealed class FeatureStats : IDisposable
{
    private readonly int _dims;
    private Tensor? _shift;   // d, float64: mean of the first batch
    private Tensor? _sum;     // d, float64: Σ (x − shift)
    private Tensor? _outer;   // d×d, float64: Σ (x − shift)(x − shift)ᵀ

    public FeatureStats(int dims) => _dims = dims;

    public long Count { get; private set; }
    public int Dims => _dims;

    /// <summary>Adds a B×d batch of features (any floating dtype; computed in float64).</summary>
    public void Add(Tensor features)
    {
        if (features.dim() != 2 || features.shape[1] != _dims)
            throw new ArgumentException($"features must be B×{_dims}, got [{string.Join(", ", features.shape)}]");
        if (features.shape[0] == 0) return;
        using var scope = NewDisposeScope();
        Tensor x = features.to_type(ScalarType.Float64);
        if (_shift is null)
        {
            _shift = x.mean([0]).DetachFromDisposeScope();
            _sum = zeros(_dims, dtype: ScalarType.Float64).DetachFromDisposeScope();
            _outer = zeros(_dims, _dims, dtype: ScalarType.Float64).DetachFromDisposeScope();
        }
        Tensor c = x - _shift;
        _sum!.add_(c.sum([0]));
        _outer!.addmm_(c.t(), c);
        Count += features.shape[0];
    }

    /// <summary>mu and the unbiased covariance (np.cov's N − 1); needs at least two rows.</summary>
    public GaussianStats Result()
    {
        if (Count < 2)
            throw new GenInputException($"feature statistics need at least 2 images, got {Count}; the covariance of fewer is undefined");
        using var scope = NewDisposeScope();
        Tensor meanC = _sum! / Count;
        Tensor mu = _shift! + meanC;
        Tensor sigma = (_outer! - Count * meanC.outer(meanC)) / (Count - 1);
        sigma = (sigma + sigma.t()) / 2;   // exact symmetry, as np.cov's product is symmetric
        return new GaussianStats(mu.data<double>().ToArray(), sigma.contiguous().data<double>().ToArray(), Count);
    }

    public void Dispose()
    {
        _shift?.Dispose();
        _sum?.Dispose();
        _outer?.Dispose();
    }
}

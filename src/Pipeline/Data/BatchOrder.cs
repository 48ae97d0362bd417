// Deterministic data order: epoch e visits the images in a permutation drawn from (seed, e) alone,
// so the batch of any step is a pure function of (seed, step) and resuming at step s reproduces the
// exact order without saving a sampler state. Incomplete final batches are dropped (as PyTorch's
// drop_last=True), so every step sees a full batch.
namespace Gen.Pipeline.Data;

public sealed class BatchOrder
{
    private readonly long _seed;
    private readonly int _count;
    private int _cachedEpoch = -1;
    private int[] _perm = [];

    public BatchOrder(long seed, int count, int batchSize)
    {
        if (batchSize <= 0) throw new GenInputException($"--batch must be positive, got {batchSize}");
        if (count < batchSize)
            throw new GenInputException($"the dataset has {count} images, fewer than one batch of {batchSize}; lower --batch");
        _seed = seed;
        _count = count;
        BatchSize = batchSize;
        BatchesPerEpoch = count / batchSize;
    }

    public int BatchSize { get; }
    public int BatchesPerEpoch { get; }

    public int EpochOf(long step) => (int)(step / BatchesPerEpoch);

    /// <summary>Image indices of the batch used at <paramref name="step"/> (0-based).</summary>
    public int[] Indices(long step)
    {
        int epoch = EpochOf(step);
        if (epoch != _cachedEpoch)
        {
            _perm = Permutation(_count, SplitMix.Mix(_seed, epoch));
            _cachedEpoch = epoch;
        }
        int start = (int)(step % BatchesPerEpoch) * BatchSize;
        return _perm.AsSpan(start, BatchSize).ToArray();
    }

    /// <summary>Fisher–Yates shuffle (Knuth, TAOCP vol. 2, Algorithm P) driven by SplitMix64.</summary>
    public static int[] Permutation(int n, ulong seed)
    {
        var p = new int[n];
        for (int i = 0; i < n; i++) p[i] = i;
        var rng = new SplitMix(seed);
        for (int i = n - 1; i > 0; i--)
        {
            int j = (int)rng.NextBelow((ulong)i + 1);
            (p[i], p[j]) = (p[j], p[i]);
        }
        return p;
    }
}

/// <summary>SplitMix64 (Steele, Lea, Flood 2014; constants from Vigna's reference code).</summary>
public struct SplitMix
{
    private ulong _state;

    public SplitMix(ulong seed) => _state = seed;

    public ulong Next()
    {
        ulong z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Uniform integer in [0, bound) by rejection (no modulo bias).</summary>
    public ulong NextBelow(ulong bound)
    {
        ulong limit = ulong.MaxValue - ulong.MaxValue % bound;
        ulong r;
        do r = Next(); while (r >= limit);
        return r % bound;
    }

    /// <summary>Uniform double in [0, 1) from the top 53 bits.</summary>
    public double NextDouble() => (Next() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Hash of two integers into a seed for an independent stream.</summary>
    public static ulong Mix(long a, long b)
    {
        var s = new SplitMix((ulong)a * 0x9E3779B97F4A7C15UL ^ (ulong)b);
        s.Next();
        return s.Next();
    }
}

// numpy's legacy np.random.RandomState, exactly as far as torch-fidelity uses it (IS shuffle, KID subsets):
// MT19937 (Matsumoto & Nishimura 1998) seeded by `init_genrand` (numpy _legacy_seeding → mt19937_seed),
// 32-bit outputs, `permutation(n)` = legacy `shuffle` of arange(n): for i = n−1 … 1, j = random_interval(i)
// (draw u32 & mask, where mask is i with all lower bits set, until ≤ i), swap a[i], a[j]; and
// `choice(n, k, replace=False)` = permutation(n)[:k] (numpy/random/mtrand.pyx, numpy 1.24).
// Checked against numpy 1.24 (tests/fixtures/metrics/reference.json and docs/methods/metrics.md §9).
namespace Gen.Metrics;

public sealed class NumpyRandom
{
    private const int N = 624, M = 397;
    private readonly uint[] _mt = new uint[N];
    private int _index;

    public NumpyRandom(uint seed)
    {
        _mt[0] = seed;
        for (int i = 1; i < N; i++) _mt[i] = 1812433253u * (_mt[i - 1] ^ (_mt[i - 1] >> 30)) + (uint)i;
        _index = N;
    }

    public uint NextUInt32()
    {
        if (_index >= N) Twist();
        uint y = _mt[_index++];
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c5680u;
        y ^= (y << 15) & 0xefc60000u;
        return y ^ (y >> 18);
    }

    private void Twist()
    {
        for (int i = 0; i < N; i++)
        {
            uint y = (_mt[i] & 0x80000000u) | (_mt[(i + 1) % N] & 0x7fffffffu);
            _mt[i] = _mt[(i + M) % N] ^ (y >> 1) ^ ((y & 1u) != 0 ? 0x9908b0dfu : 0u);
        }
        _index = 0;
    }

    private ulong NextUInt64() => ((ulong)NextUInt32() << 32) | NextUInt32();

    /// <summary>numpy's random_interval: uniform in [0, max] by masked rejection.</summary>
    public ulong Interval(ulong max)
    {
        if (max == 0) return 0;
        ulong mask = max;
        mask |= mask >> 1; mask |= mask >> 2; mask |= mask >> 4; mask |= mask >> 8; mask |= mask >> 16; mask |= mask >> 32;
        ulong value;
        if (max <= 0xffffffffUL)
            while ((value = NextUInt32() & mask) > max) { }
        else
            while ((value = NextUInt64() & mask) > max) { }
        return value;
    }

    /// <summary>np.random.RandomState.permutation(n).</summary>
    public int[] Permutation(int n)
    {
        var a = new int[n];
        for (int i = 0; i < n; i++) a[i] = i;
        for (int i = n - 1; i >= 1; i--)
        {
            int j = (int)Interval((ulong)i);
            (a[i], a[j]) = (a[j], a[i]);
        }
        return a;
    }

    /// <summary>np.random.RandomState.choice(n, k, replace=False).</summary>
    public int[] Choice(int n, int k) => Permutation(n)[..k];
}

// The formulas of make_inception_fixtures.py, repeated bit for bit: FNV-1a-64 of a state_dict name seeds a
// SplitMix64 stream whose top 24 bits give u in [0, 1); parameter values are simple functions of u; images
// are top bytes of SplitMix64 outputs; metric test features are exact dyadic numbers.
using Gen.Metrics.Inception;
using Gen.Pipeline.Checkpoints;
using Gen.Pipeline.Data;
using static TorchSharp.torch;

namespace Gen.Metrics.Tests;

public static class Formula
{
    public static ulong Fnv1a64(string text)
    {
        ulong h = 0xCBF29CE484222325UL;
        foreach (byte b in System.Text.Encoding.UTF8.GetBytes(text)) { h ^= b; h *= 0x100000001B3UL; }
        return h;
    }

    public static double[] Unit(ulong seed, long n)
    {
        var rng = new SplitMix(seed);
        var u = new double[n];
        for (long i = 0; i < n; i++) u[i] = (rng.Next() >> 40) / (double)(1 << 24);
        return u;
    }

    public static StTensor StateTensor(string name, long[] shape)
    {
        ulong seed = Fnv1a64(name);
        if (name.EndsWith("num_batches_tracked", StringComparison.Ordinal))
            return new StTensor("I64", shape, BitConverter.GetBytes((long)(seed & 1023)));
        long n = shape.Aggregate(1L, (a, b) => a * b);
        double[] u = Unit(seed, n);
        var v = new float[n];
        for (long i = 0; i < n; i++)
        {
            double s = 2.0 * u[i] - 1.0;
            v[i] = (float)(name switch
            {
                _ when name.EndsWith("conv.weight", StringComparison.Ordinal) => s * Math.Sqrt(6.0 / shape.Skip(1).Aggregate(1L, (a, b) => a * b)),
                "fc.weight" => s * Math.Sqrt(6.0 / shape[1]),
                "fc.bias" => 0.5 * s,
                _ when name.EndsWith("bn.weight", StringComparison.Ordinal) => 1.0 + 0.2 * s,
                _ when name.EndsWith("bn.bias", StringComparison.Ordinal) || name.EndsWith("running_mean", StringComparison.Ordinal) => 0.1 * s,
                _ when name.EndsWith("running_var", StringComparison.Ordinal) => 0.75 + 0.5 * u[i],
                _ => throw new ArgumentException(name),
            });
        }
        var bytes = new byte[n * 4];
        Buffer.BlockCopy(v, 0, bytes, 0, bytes.Length);
        return new StTensor("F32", shape, bytes);
    }

    /// <summary>An FID Inception filled with the fixture formula (the weights of every fixture output).</summary>
    public static FidInceptionV3 Inception()
    {
        var net = new FidInceptionV3();
        var tensors = net.state_dict().ToDictionary(kv => kv.Key, kv => StateTensor(kv.Key, kv.Value.shape));
        Checkpoint.LoadInto(net, new SafeTensorsFile(new Dictionary<string, string>(), tensors, "formula"));
        net.eval();
        return net;
    }

    public static byte[] Images(ulong seed, int n, int c, int h, int w)
    {
        var rng = new SplitMix(seed);
        var b = new byte[n * c * h * w];
        for (int i = 0; i < b.Length; i++) b[i] = (byte)(rng.Next() >> 56);
        return b;
    }

    /// <summary>make_inception_fixtures.formula_features: n×d float64, row-major.</summary>
    public static double[] Features(ulong seed, int n, int d, int kind)
    {
        double[] u = Unit(seed, (long)n * d);
        var f = new double[u.Length];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < d; j++)
            {
                double x = u[i * d + j];
                f[i * d + j] = kind == 0 ? x * (1.0 + (double)j / d) + 0.1 * (j % 3) : x * x * (2.0 - (double)j / d) + 0.05 * (j % 5);
            }
        return f;
    }

    public static Tensor FeatureTensor(ulong seed, int n, int d, int kind) => tensor(Features(seed, n, d, kind), [n, d], ScalarType.Float64);

    public static Dictionary<string, Tensor> Reference() =>
        SafeTensors.Read(Fixtures.Path("inception_reference.safetensors")).Tensors.ToDictionary(kv => kv.Key, kv => TensorBytes.FromSt(kv.Value));
}

// Loads fixture tensors (safetensors written by tests/fixtures/make_pipeline_fixtures.py) as TorchSharp tensors.
using Gen.Pipeline.Checkpoints;
using static TorchSharp.torch;

namespace Gen.Pipeline.Tests;

public static class FixtureTensors
{
    public static Dictionary<string, Tensor> Load(string name) =>
        SafeTensors.Read(Fixtures.Path(name)).Tensors.ToDictionary(kv => kv.Key, kv => TensorBytes.FromSt(kv.Value));

    /// <summary>sin(0.37·i + k) over the flat index, as the fixture script's formula().</summary>
    public static Tensor Formula(long[] shape, double k)
    {
        long n = shape.Aggregate(1L, (a, b) => a * b);
        var v = new float[n];
        for (long i = 0; i < n; i++) v[i] = (float)Math.Sin(0.37 * i + k);
        return tensor(v, shape);
    }

    public static void AssertClose(Tensor expected, Tensor actual, double atol, double rtol = 0)
    {
        Assert.Equal(expected.shape, actual.shape);
        using var e = expected.to_type(ScalarType.Float64);
        using var a = actual.to_type(ScalarType.Float64);
        using var diff = (e - a).abs();
        using var tol = e.abs() * rtol + atol;
        double worst = diff.max().item<double>();
        Assert.True(diff.le(tol).all().item<bool>(), $"max |diff| = {worst:G4} exceeds atol {atol:G3} + rtol {rtol:G3}");
    }
}

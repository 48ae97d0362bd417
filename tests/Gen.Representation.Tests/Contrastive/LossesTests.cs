using Gen.Representation.Contrastive;
using TorchSharp;
using static TorchSharp.torch;

namespace Gen.Representation.Tests.Contrastive;

public sealed class LossesTests
{
    private static Tensor Formula(long rows, long cols, double k)
    {
        var v = new float[rows * cols];
        for (int i = 0; i < v.Length; i++) v[i] = (float)Math.Sin(0.37 * i + k) + (float)(0.3 * Math.Cos(1.1 * i * k));
        return tensor(v, [rows, cols]);
    }

    private static double[][] Rows(Tensor t)
    {
        using var d = t.to_type(ScalarType.Float64).contiguous();
        double[] flat = d.data<double>().ToArray();
        long r = t.shape[0], c = t.shape[1];
        return Enumerable.Range(0, (int)r).Select(i => flat.Skip(i * (int)c).Take((int)c).ToArray()).ToArray();
    }

    private static double[] Unit(double[] v) { double n = Math.Sqrt(v.Sum(x => x * x)); return v.Select(x => x / n).ToArray(); }
    private static double Dot(double[] a, double[] b) => a.Zip(b, (x, y) => x * y).Sum();

    /// <summary>NT-Xent in float64 loops: anchor i, positive (i+B) mod 2B, denominator over j ≠ i.</summary>
    private static double NtXent64(double[][] anchors, double[][] candidates, double tau)
    {
        int n = anchors.Length;
        double total = 0;
        for (int i = 0; i < n; i++)
        {
            double[] a = Unit(anchors[i]);
            int pos = (i + n / 2) % n;
            double denom = 0, num = 0;
            for (int j = 0; j < n; j++)
            {
                if (j == i) continue;
                double e = Math.Exp(Dot(a, Unit(candidates[j])) / tau);
                denom += e;
                if (j == pos) num = e;
            }
            total += -Math.Log(num / denom);
        }
        return total / n;
    }

    [Fact]
    public void NtXent_OrthogonalPairs_HandValue()
    {
        // z1 = z2 = [e1, e2], τ = 1: every anchor gives log(1 + 2/e) = 0.551445 (docs/methods/representation.md §7 check 1).
        Tensor z = tensor(new float[] { 1, 0, 0, 1, 1, 0, 0, 1 }, [4, 2]);
        double loss = Losses.NtXent(z, z, 1.0).item<float>();
        Assert.Equal(Math.Log(1 + 2 / Math.E), loss, 1e-5);
        Assert.Equal(0.551445, loss, 1e-5);
    }

    [Fact]
    public void NtXent_RandomBatch_MatchesFloat64Loop()
    {
        Tensor z = Formula(6, 4, 0.5);   // B = 3, D = 4
        double expected = NtXent64(Rows(z), Rows(z), 0.2);
        Assert.Equal(expected, Losses.NtXent(z, z, 0.2).item<float>(), 1e-5);
    }

    [Fact]
    public void NtXent_ScalingARow_ChangesNothing()
    {
        Tensor z = Formula(6, 4, 0.5);
        Tensor scaled = z.clone();
        scaled[2].mul_(7.5);
        Assert.Equal(Losses.NtXent(z, z, 0.2).item<float>(), Losses.NtXent(scaled, scaled, 0.2).item<float>(), 1e-5);
    }

    [Fact]
    public void NtXent_HallucinatedAnchors_MaskTheirSource()
    {
        Tensor z = Formula(6, 4, 0.5);
        Tensor h = Formula(6, 4, 2.0);
        double expected = NtXent64(Rows(h), Rows(z), 0.2);
        Assert.Equal(expected, Losses.NtXent(h, z, 0.2).item<float>(), 1e-5);
        // A hallucination equal to its source scores exactly like the source (its own copy is masked, not a negative).
        Assert.Equal(Losses.NtXent(z, z, 0.2).item<float>(), Losses.NtXent(z.clone(), z, 0.2).item<float>(), 1e-6);
    }

    [Fact]
    public void MocoInfoNce_MatchesFloat64()
    {
        Tensor q = Formula(3, 4, 0.1), k = Formula(3, 4, 0.9);
        Tensor queue = nn.functional.normalize(Formula(4, 5, 1.7), dim: 0);   // D × K, unit columns
        double[][] qr = Rows(q), kr = Rows(k), qq = Rows(queue.t().contiguous());
        double total = 0;
        for (int i = 0; i < 3; i++)
        {
            double[] qi = Unit(qr[i]);
            double pos = Math.Exp(Dot(qi, Unit(kr[i])) / 0.2);
            double denom = pos + qq.Sum(col => Math.Exp(Dot(qi, col) / 0.2));
            total += -Math.Log(pos / denom);
        }
        Assert.Equal(total / 3, Losses.MocoInfoNce(q, k, queue, 0.2).item<float>(), 1e-5);
    }

    [Fact]
    public void NegativeCosine_StopGradient_NoGradientToTarget()
    {
        // docs/methods/representation.md §7 check 3: p = [1,0], z = [0,1] (a leaf that requires grad): L = 0, ∂L/∂p = [0, −1], z.grad stays empty.
        Tensor p = tensor(new float[] { 1, 0 }, [1, 2]).requires_grad_(true);
        Tensor z = tensor(new float[] { 0, 1 }, [1, 2]).requires_grad_(true);
        Tensor loss = Losses.NegativeCosine(p, z);
        Assert.Equal(0.0, loss.item<float>(), 1e-6);
        loss.backward();
        Assert.Equal(new float[] { 0, -1 }, p.grad!.data<float>().ToArray());
        Assert.Null(z.grad);
    }
}

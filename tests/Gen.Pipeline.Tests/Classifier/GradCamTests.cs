using Gen.Pipeline.Classifier;
using Gen.Pipeline.Imaging;
using Gen.Pipeline.Methods;
using static TorchSharp.torch;

namespace Gen.Pipeline.Tests.Classifier;

/// <summary>The hand-made network of docs/methods/detection.md §6: a 1×1 convolution with weights (1, −1)
/// and no bias, ReLU (that is A), global average pooling, a linear layer W = [[2, −1], [−1, 3]] without bias.</summary>
internal sealed class HandNet : IConvClassifier
{
    private readonly Tensor _w = tensor(new double[] { 2, -1, -1, 3 }, [2, 2]);
    public int Channels => 1;
    public int Height => 4;
    public int Width => 4;
    public IReadOnlyList<string> ClassNames => ["zero", "one"];
    public int Classes => 2;
    public string TrainingData => "";
    public string CamLayer => "conv";
    public Tensor CamActivations(Tensor x) => cat([nn.functional.relu(x), nn.functional.relu(x.neg())], 1);
    public Tensor CamScores(Tensor a) => a.mean([2, 3]).matmul(_w.t().to_type(a.dtype));
    public Tensor Logits(Tensor x) => CamScores(CamActivations(x));
}

public sealed class GradCamTests
{
    private static Tensor Ramp() => (arange(16, ScalarType.Float64) - 7.5).view(1, 1, 4, 4);   // x[i,j] = 4i + j − 7.5

    [Fact]
    public void HandMadeNet_Class0_ExactAlphaAndMap()
    {
        var (alpha, map, _) = GradCam.Raw(new HandNet(), Ramp(), [0]);
        Assert.Equal(new[] { 0.125, -0.0625 }, alpha.data<double>().ToArray(), new Close(1e-12));
        double[] expected = Enumerable.Range(0, 16).Select(k => Math.Max(4 * (k / 4) + k % 4 - 7.5, 0) / 8).ToArray();
        Assert.Equal(expected, map.data<double>().ToArray(), new Close(1e-12));
        Assert.Equal(0.0625, expected[8]);          // the spec's listing: eight 0s, then 0.0625, 0.1875 … 0.9375
        Assert.Equal(0.9375, expected[15]);
    }

    [Fact]
    public void HandMadeNet_Class1_ExactAlphaAndMap()
    {
        var (alpha, map, _) = GradCam.Raw(new HandNet(), Ramp(), [1]);
        Assert.Equal(new[] { -0.0625, 0.1875 }, alpha.data<double>().ToArray(), new Close(1e-12));
        double[] got = map.data<double>().ToArray();
        double[] expected = Enumerable.Range(0, 16).Select(k => 3 * Math.Max(7.5 - (4 * (k / 4) + k % 4), 0) / 16).ToArray();
        Assert.Equal(expected, got, new Close(1e-12));
        Assert.Equal(1.40625, got[0], 12);
        Assert.Equal(0.09375, got[7], 12);
        Assert.All(got[8..], v => Assert.Equal(0.0, v));
    }

    [Fact]
    public void Batch_GivesEachImageItsOwnMap()
    {
        Tensor two = cat([Ramp(), Ramp().neg()], 0);
        var (_, map, _) = GradCam.Raw(new HandNet(), two, [0, 0]);
        var (_, single, _) = GradCam.Raw(new HandNet(), Ramp().neg(), [0]);
        Assert.Equal(single.data<double>().ToArray(), map[1].data<double>().ToArray(), new Close(1e-15));
    }

    [Fact]
    public void Upsample_MatchesHandBilinear_AndNormalisesByMax()
    {
        var raw = new double[] { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };
        Tensor up = GradCam.Upsample(tensor(raw, [1, 4, 4]), 7, 9);
        double[] got = up.data<double>().ToArray();
        // align_corners = false: source coordinate (d + 0.5)·in/out − 0.5, clamped at 0, then linear weights.
        static (int I0, int I1, double T) Src(int d, int n, int m)
        {
            double s = Math.Max((d + 0.5) * n / m - 0.5, 0);
            int i0 = Math.Min((int)Math.Floor(s), n - 1), i1 = Math.Min(i0 + 1, n - 1);
            return (i0, i1, s - i0);
        }
        var expected = new double[63];
        for (int y = 0; y < 7; y++)
            for (int x = 0; x < 9; x++)
            {
                var (y0, y1, ty) = Src(y, 4, 7);
                var (x0, x1, tx) = Src(x, 4, 9);
                double v = (1 - ty) * ((1 - tx) * raw[y0 * 4 + x0] + tx * raw[y0 * 4 + x1]) + ty * ((1 - tx) * raw[y1 * 4 + x0] + tx * raw[y1 * 4 + x1]);
                expected[y * 9 + x] = v;
            }
        double max = expected.Max();
        Assert.Equal(expected.Select(v => v / max).ToArray(), got, new Close(1e-12));

        double[] constant = GradCam.Upsample(full(new long[] { 1, 3, 3 }, 0.25, ScalarType.Float64), 28, 28).data<double>().ToArray();
        Assert.All(constant, v => Assert.Equal(1.0, v, 12));
        double[] empty = GradCam.Upsample(zeros(1, 3, 3, ScalarType.Float64), 5, 5).data<double>().ToArray();
        Assert.All(empty, v => Assert.Equal(0.0, v));
    }

    [Fact]
    public void Explain_PicksTargets_AndFlagsEmptyMaps()
    {
        var net = new HandNet();
        CamMap[] pred = GradCam.Explain(net, Ramp().to_type(ScalarType.Float32), "pred");
        // Class scores: GAP of (relu x, relu −x) is (2, 2); logits (2·2 − 2, −2 + 3·2) = (2, 4): class 1 wins.
        Assert.Equal(1, pred[0].Target);
        Assert.Equal(4.0, pred[0].Score, 5);
        Assert.Equal((0, 0), pred[0].Peak(4));                   // 3·max(−x,0)/16 peaks at x = −7.5, the top-left pixel
        Assert.Equal(0, GradCam.Explain(net, Ramp().to_type(ScalarType.Float32), "ZERO")[0].Target);
        Assert.Equal(0, GradCam.Explain(net, Ramp().to_type(ScalarType.Float32), "0")[0].Target);
        Assert.Throws<GenInputException>(() => GradCam.Explain(net, Ramp().to_type(ScalarType.Float32), "two"));
        // A positive constant image: A = (x, 0); class 1's α = (−1/16, 3/16) weighs it negatively → ReLU gives an all-zero map.
        CamMap flat = GradCam.Explain(net, ones(1, 1, 4, 4), "one")[0];
        Assert.True(flat.Empty);
        Assert.All(flat.Upsampled, v => Assert.Equal(0f, v));
    }

    [Fact]
    public void Overlay_ZeroWeightPixelIsDimmedInput_AndStripHasThreePanels()
    {
        byte[] grey = [200, 100, 0, 50];
        float[] map = [0f, 1f, 0.5f, 0f];
        byte[] o = Heatmap.Overlay(grey, 1, map, 2, 2, 0.5);
        for (int c = 0; c < 3; c++) Assert.Equal(100, o[c * 4]);            // L = 0: (1 − α)·200
        Assert.Equal(new byte[] { 178, 178, 178 }, new[] { o[1], o[5], o[9] }); // L = 1: 0.5·100 + 0.5·255 (white)
        Assert.Equal((255, 0, 0), ((int)Heatmap.Hot(1.0 / 3).R, (int)Heatmap.Hot(1.0 / 3).G, (int)Heatmap.Hot(1.0 / 3).B));
        Assert.Equal((0, 0, 0), ((int)Heatmap.Hot(0).R, (int)Heatmap.Hot(0).G, (int)Heatmap.Hot(0).B));
        var (strip, h, w) = Heatmap.Strip(grey, 1, map, 2, 2, 0.5, gap: 1);
        Assert.Equal((2, 8), (h, w));
        Assert.Equal(3 * 2 * 8, strip.Length);
        Assert.Equal(200, strip[0]);                                       // input panel, red plane
        Assert.Equal(255, strip[2]);                                       // the white gap
        Assert.Equal(100, strip[6]);                                       // overlay panel's first pixel
        Assert.Throws<GenInputException>(() => Heatmap.Overlay(grey, 1, map, 2, 2, 1.5));
    }
}

internal sealed class Close(double tol) : IEqualityComparer<double>
{
    public bool Equals(double a, double b) => Math.Abs(a - b) <= tol * Math.Max(1, Math.Abs(b));
    public int GetHashCode(double v) => 0;
}

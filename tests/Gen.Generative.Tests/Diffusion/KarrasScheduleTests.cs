// The Karras σ schedule (ρ = 7) against docs/methods/diffusion.md §5.2 and the churn γ of §5.3.
using Gen.Generative.Diffusion;

namespace Gen.Generative.Tests.Diffusion;

public sealed class KarrasScheduleTests
{
    private static void Near(double[] expect, double[] actual, double rel = 1e-5)
    {
        Assert.Equal(expect.Length, actual.Length);
        for (int i = 0; i < expect.Length; i++)
            Assert.True(Math.Abs(expect[i] - actual[i]) <= rel * Math.Abs(expect[i]) + 1e-12, $"t[{i}] = {actual[i]}, expected {expect[i]}");
    }

    [Fact]
    public void Sigmas_N3_N5_MatchHandValues()
    {
        Near([80, 2.51522, 0.002, 0], KarrasSchedule.Sigmas(3, 0.002, 80, 7));
        Near([80, 17.5278, 2.51522, 0.169753, 0.002, 0], KarrasSchedule.Sigmas(5, 0.002, 80, 7));
    }

    [Fact]
    public void Sigmas_N18_MatchHandValues()
    {
        double[] t = KarrasSchedule.Sigmas(18, 0.002, 80, 7);
        Assert.Equal(19, t.Length);
        Assert.Equal(80, t[0], 12);
        Assert.Equal(57.586, t[1], 3);
        Assert.Equal(1.92334, t[9], 5);
        Assert.Equal(0.002, t[17], 12);
        Assert.Equal(0, t[18]);
    }

    [Fact]
    public void Sigmas_RefineStageFrom2_N6_MatchHandValues() =>
        Near([2, 0.7826, 0.2647, 0.0734, 0.0152, 0.002, 0], KarrasSchedule.Sigmas(6, 0.002, 2, 7), 3e-3);

    [Fact]
    public void Gamma_Churn40_N18_IsCappedAtSqrt2Minus1()
    {
        Assert.Equal(0.414214, KarrasSchedule.Gamma(10, 18, new ChurnOptions { SChurn = 40 }), 6);
        Assert.Equal(0, KarrasSchedule.Gamma(10, 18, ChurnOptions.None));
        Assert.Equal(0, KarrasSchedule.Gamma(60, 18, new ChurnOptions { SChurn = 40, SMax = 50 }));
    }

    [Fact]
    public void Nfe_Heun_Is2NMinus1() => Assert.Equal(35, KarrasSchedule.Nfe(18));

    [Fact]
    public void Sigmas_ZeroSteps_Throws() =>
        Assert.Throws<Gen.Pipeline.GenInputException>(() => KarrasSchedule.Sigmas(0, 0.002, 80, 7));
}

// The EDM sampler (Karras et al. 2022, Algorithm 2; NVlabs/edm generate.py `edm_sampler`): the
// σ discretisation t_i = (σ_max^{1/ρ} + i/(N−1)·(σ_min^{1/ρ} − σ_max^{1/ρ}))^ρ, t_N = 0, and Heun's
// 2nd-order method on the probability-flow ODE dx/dσ = (x − D(x;σ))/σ with optional stochastic churn
// (γ_i = min(S_churn/N, √2−1) for S_min ≤ t_i ≤ S_max). State is float64 as in edm/generate.py. All
// noise of image i comes from its own Generator (edm's StackedRandomGenerator), so an image depends
// only on its seed, never on the batch it is sampled in.
using Gen.Pipeline;
using static TorchSharp.torch;

namespace Gen.Generative.Diffusion;

/// <summary>The denoiser as the sampler sees it: float64 x (B×C×H×W) and one σ for the batch → float64 D(x; σ).</summary>
public delegate Tensor Denoiser(Tensor x, double sigma);

public sealed record ChurnOptions
{
    public double SChurn { get; init; }                          // 0 = deterministic (edm default)
    public double SMin { get; init; }                            // edm generate.py defaults
    public double SMax { get; init; } = double.PositiveInfinity;
    public double SNoise { get; init; } = 1;

    public static readonly ChurnOptions None = new();
}

public static class KarrasSchedule
{
    /// <summary>N noise levels from σ_max to σ_min plus the final t_N = 0 (length N+1).</summary>
    public static double[] Sigmas(int steps, double sigmaMin, double sigmaMax, double rho)
    {
        if (steps < 1) throw new GenInputException($"a sampler needs at least 1 step, got {steps}");
        var t = new double[steps + 1];
        double a = Math.Pow(sigmaMax, 1 / rho), b = Math.Pow(sigmaMin, 1 / rho);
        for (int i = 0; i < steps; i++)
            t[i] = steps == 1 ? sigmaMax : Math.Pow(a + (double)i / (steps - 1) * (b - a), rho);
        t[steps] = 0;
        return t;
    }

    /// <summary>Network evaluations of Heun with N steps: 2N−1 (the last step is Euler).</summary>
    public static int Nfe(int steps) => 2 * steps - 1;

    /// <summary>γ_i of the churn at noise level t for N steps.</summary>
    public static double Gamma(double t, int steps, ChurnOptions c) =>
        c.SChurn > 0 && c.SMin <= t && t <= c.SMax ? Math.Min(c.SChurn / steps, Math.Sqrt(2) - 1) : 0;
}

public static class HeunSampler
{
    /// <summary>
    /// Integrates from x (float64, already at noise level t[0]) down the schedule t (ending in 0).
    /// Churn noise for image i is drawn from <paramref name="generators"/>[i]. Returns a new tensor;
    /// throws GenInputException when the state stops being finite.
    /// </summary>
    public static Tensor Sample(Denoiser denoise, Tensor x, double[] t, ChurnOptions? churn = null,
                                IReadOnlyList<Generator>? generators = null, CancellationToken cancel = default)
    {
        churn ??= ChurnOptions.None;
        int n = t.Length - 1;
        if (churn.SChurn > 0 && (generators is null || generators.Count != x.shape[0]))
            throw new ArgumentException("churn needs one generator per image");
        return Integrate(x, t, (i, cur) =>
        {
            double tCur = t[i], tNext = t[i + 1];
            double gamma = KarrasSchedule.Gamma(tCur, n, churn);
            double tHat = tCur + gamma * tCur;
            Tensor xHat = cur;
            if (gamma > 0)
                xHat = cur.add(PerImageNoise(generators!, cur.shape, ScalarType.Float64).mul(Math.Sqrt(tHat * tHat - tCur * tCur) * churn.SNoise));
            Tensor dCur = xHat.sub(denoise(xHat, tHat)).div(tHat);
            Tensor xNext = xHat.add(dCur.mul(tNext - tHat));
            if (i < n - 1)
            {
                Tensor dPrime = xNext.sub(denoise(xNext, tNext)).div(tNext);
                xNext = xHat.add(dCur.add(dPrime).mul(0.5 * (tNext - tHat)));
            }
            return xNext;
        }, cancel);
    }

    /// <summary>
    /// The loop every sampler shares: a float64 copy of x, then step(i, state) for i = 0…len(t)−2, each
    /// inside its own dispose scope and native-call guard, with the state checked for NaN/Inf after each
    /// step. Returns a new tensor; throws GenInputException when the state stops being finite.
    /// </summary>
    internal static Tensor Integrate(Tensor x, double[] t, Func<int, Tensor, Tensor> step, CancellationToken cancel)
    {
        int n = t.Length - 1;
        Tensor cur = x.to(ScalarType.Float64).clone();
        cur.DetachFromDisposeScope();
        try
        {
            for (int i = 0; i < n; i++)
            {
                cancel.ThrowIfCancellationRequested();
                using var guard = NativeCallGuard.Enter();
                using var scope = NewDisposeScope();
                Tensor xNext = step(i, cur);
                if (!xNext.isfinite().all().item<bool>())
                    throw new GenInputException($"sampling produced NaN/Inf at step {i + 1} of {n} (σ = {t[i]:G4}); the checkpoint may be diverged or --bf16 unstable for it; try without --bf16 or another checkpoint");
                Tensor next = xNext.detach().clone();
                next.DetachFromDisposeScope();
                cur.Dispose();
                cur = next;
            }
            Tensor result = cur;
            cur = null!;
            return result;
        }
        finally
        {
            cur?.Dispose();
        }
    }

    /// <summary>Standard normal noise with row i drawn from generators[i] (shape[0] must equal the count).</summary>
    public static Tensor PerImageNoise(IReadOnlyList<Generator> generators, long[] shape, ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        long[] one = [1, .. shape[1..]];
        var rows = generators.Select(g => randn(one, dtype, generator: g)).ToArray();
        return cat(rows, 0).MoveToOuterDisposeScope();
    }
}

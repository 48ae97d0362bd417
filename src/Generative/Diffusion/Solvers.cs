// The sampler catalogue of a diffusion checkpoint (docs/methods/diffusion.md §2.5): Heun (EDM's
// Algorithm 2, HeunSampler), Euler, DPM-Solver++(2M) and Euler ancestral, as k-diffusion names and
// defines them (crowsonkb/k-diffusion k_diffusion/sampling.py: sample_euler, sample_dpmpp_2m,
// sample_euler_ancestral with eta = 1). All integrate the probability-flow ODE dx/dσ = (x − D(x;σ))/σ
// over the same Karras schedule ending at σ = 0; the state is float64; Euler ancestral's noise for image
// i comes from its own generator, so an image depends only on its seed.
using Gen.Pipeline;
using static TorchSharp.torch;

namespace Gen.Generative.Diffusion;

public enum SolverKind { Heun, Euler, DpmPp2M, EulerAncestral }

public static class Solvers
{
    public static readonly string[] Names = ["heun", "euler", "dpmpp-2m", "euler-a"];

    public static SolverKind Parse(string name) => name.Trim().ToLowerInvariant() switch
    {
        "heun" => SolverKind.Heun,
        "euler" => SolverKind.Euler,
        "dpmpp-2m" => SolverKind.DpmPp2M,
        "euler-a" => SolverKind.EulerAncestral,
        _ => throw new GenInputException($"unknown --sampler '{name}'; use {string.Join(", ", Names)}"),
    };

    public static string Name(SolverKind k) => Names[(int)k];

    /// <summary>Network evaluations for N steps: Heun 2N − 1 (its last step is Euler), the others N.</summary>
    public static int Nfe(SolverKind k, int steps) => k == SolverKind.Heun ? KarrasSchedule.Nfe(steps) : steps;

    /// <summary>Integrates x (float64, at noise level t[0]) down the schedule t (ending in 0) with the chosen
    /// solver. Churn applies to Heun only; Euler ancestral draws its noise from <paramref name="generators"/>.</summary>
    public static Tensor Sample(SolverKind kind, Denoiser denoise, Tensor x, double[] t, ChurnOptions? churn = null,
                                IReadOnlyList<Generator>? generators = null, CancellationToken cancel = default)
    {
        if (kind == SolverKind.Heun) return HeunSampler.Sample(denoise, x, t, churn, generators, cancel);
        if (churn is { SChurn: > 0 }) throw new GenInputException($"--churn applies to the heun sampler, not {Name(kind)}");
        if (kind == SolverKind.EulerAncestral && (generators is null || generators.Count != x.shape[0]))
            throw new ArgumentException("euler-a needs one generator per image");
        Tensor? previous = null;   // DPM-Solver++(2M): the denoised estimate of the step before
        try
        {
            return HeunSampler.Integrate(x, t, (i, cur) =>
            {
                double s = t[i], sNext = t[i + 1];
                Tensor denoised = denoise(cur, s);
                Tensor xNext = kind switch
                {
                    SolverKind.Euler => cur.add(cur.sub(denoised).div(s).mul(sNext - s)),
                    SolverKind.DpmPp2M => DpmPp2MStep(cur, denoised, previous, i == 0 ? 0 : t[i - 1], s, sNext),
                    _ => AncestralStep(cur, denoised, s, sNext, generators!),
                };
                if (kind == SolverKind.DpmPp2M)
                {
                    previous?.Dispose();
                    previous = denoised.detach().clone();
                    previous.DetachFromDisposeScope();
                }
                return xNext;
            }, cancel);
        }
        finally
        {
            previous?.Dispose();
        }
    }

    /// <summary>
    /// One DPM-Solver++(2M) step in λ = −ln σ (Lu et al. 2022, Algorithm 2; k-diffusion sample_dpmpp_2m):
    /// x' = (σ'/σ)·x − (e^{−h} − 1)·D̂ with h = λ' − λ and D̂ = (1 + 1/2r)·D − (1/2r)·D_prev, r = h_prev/h;
    /// the first step and the step to σ' = 0 use D̂ = D (to σ' = 0 that gives x' = D).
    /// </summary>
    private static Tensor DpmPp2MStep(Tensor x, Tensor denoised, Tensor? previous, double sPrev, double s, double sNext)
    {
        if (sNext == 0) return denoised.alias();
        double h = Math.Log(s / sNext);
        Tensor d = denoised;
        if (previous is not null)
        {
            double r = Math.Log(sPrev / s) / h;
            d = denoised.mul(1 + 1 / (2 * r)).sub(previous.mul(1 / (2 * r)));
        }
        return x.mul(sNext / s).sub(d.mul(Math.Exp(-h) - 1));
    }

    /// <summary>One Euler ancestral step (eta = 1; k-diffusion get_ancestral_step): σ_up = min(σ', √(σ'²(σ² − σ'²)/σ²)),
    /// σ_down = √(σ'² − σ_up²); Euler to σ_down, then fresh noise of scale σ_up.</summary>
    private static Tensor AncestralStep(Tensor x, Tensor denoised, double s, double sNext, IReadOnlyList<Generator> generators)
    {
        double up = Math.Min(sNext, Math.Sqrt(sNext * sNext * (s * s - sNext * sNext) / (s * s)));
        double down = Math.Sqrt(sNext * sNext - up * up);
        Tensor y = x.add(x.sub(denoised).div(s).mul(down - s));
        return sNext > 0 ? y.add(HeunSampler.PerImageNoise(generators, x.shape, ScalarType.Float64).mul(up)) : y;
    }
}

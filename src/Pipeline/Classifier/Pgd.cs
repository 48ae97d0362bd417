// Projected gradient ascent on a classifier's input (Madry et al. 2018), the one attack and input
// optimiser of Gen (docs/methods/jem-at.md §2): adversarial training, the robustness verb, and the
// energy model's contrastive samples and generator all call it.
//
// Steps as the official DAT code's attack_steps.py: L∞ moves by α·sign(g) and projects onto
// [x−ε, x+ε] ∩ [0,1]; L2 moves by α·g/‖g‖₂ (per sample), renormalises δ to ‖δ‖₂ ≤ ε, then clamps
// to [0,1]. With ε = ∞ only the clamp applies (the energy model's ascent). The objective is summed
// over the batch, so every sample takes its own normalised step.
using static TorchSharp.torch;

namespace Gen.Pipeline.Classifier;

public enum Threat { L2, Linf }

/// <summary>What the ascent maximises: the cross-entropy of the true label (an attack), or the logit
/// of a target class (class-conditional descent on the energy E(x, y) = −f(x)[y]).</summary>
public enum PgdObjective { CrossEntropy, ClassLogit }

public sealed record PgdAttack(Threat Threat, double Eps, int Steps, double StepSize)
{
    public PgdObjective Objective { get; init; } = PgdObjective.CrossEntropy;

    /// <summary>Start from a uniform point of the ball instead of x (restarts after the first).</summary>
    public bool RandomStart { get; init; }

    /// <summary>The CLI default step 2.5·ε/steps (Madry et al. 2018).</summary>
    public static double DefaultStepSize(double eps, int steps) => 2.5 * eps / steps;

    public static Threat ParseThreat(string s) => s.ToLowerInvariant() switch
    {
        "l2" => Threat.L2,
        "linf" or "l-inf" or "inf" => Threat.Linf,
        _ => throw new GenInputException($"--threat takes l2 or linf, got '{s}'"),
    };

    public static string Name(Threat t) => t == Threat.L2 ? "l2" : "linf";

    public void Validate()
    {
        if (!(Eps > 0)) throw new GenInputException($"--eps must be positive (the radius of the threat ball), got {Eps}");
        if (Steps < 0) throw new GenInputException($"--steps must be zero or positive, got {Steps}");
        if (!(StepSize > 0) || double.IsInfinity(StepSize)) throw new GenInputException($"--step-size must be positive, got {StepSize}");
    }
}

public static class Pgd
{
    /// <summary>
    /// Runs the ascent from <paramref name="x"/> (B×C×H×W in [0,1]) for <paramref name="labels"/> and
    /// returns the detached result in the caller's dispose scope. <paramref name="logits"/> is called
    /// with gradients on; the model's parameters receive no gradient (autograd.grad on the input only).
    /// </summary>
    public static Tensor Run(Func<Tensor, Tensor> logits, Tensor x, Tensor labels, PgdAttack a, Generator? g = null)
    {
        Tensor x0 = x.detach();
        Tensor cur = a.RandomStart && !double.IsPositiveInfinity(a.Eps) ? RandomPoint(x0, a, g) : x0.clone();
        cur.DetachFromDisposeScope();
        try
        {
            for (int i = 0; i < a.Steps; i++)
            {
                using var scope = NewDisposeScope();
                using var _ = enable_grad();
                Tensor xi = cur.detach().requires_grad_(true);
                Tensor objective = Objective(logits(xi), labels, a.Objective);
                Tensor grad = autograd.grad([objective], [xi])[0];
                Tensor next = Project(x0, xi.detach().add(Direction(grad, a.Threat).mul(a.StepSize)), a);
                cur.Dispose();
                cur = next.detach();
                cur.DetachFromDisposeScope();
            }
            Tensor result = cur.detach().clone();
            return result;
        }
        finally
        {
            cur.Dispose();
        }
    }

    /// <summary>The summed objective: Σ CE(f(x_i), y_i) or Σ f(x_i)[y_i].</summary>
    public static Tensor Objective(Tensor logits, Tensor labels, PgdObjective objective) => objective switch
    {
        PgdObjective.CrossEntropy => nn.functional.cross_entropy(logits, labels, reduction: nn.Reduction.Sum),
        _ => logits.gather(1, labels.reshape(-1, 1)).sum(),
    };

    /// <summary>The steepest-ascent direction of the norm: sign(g) for L∞, g/‖g‖₂ per sample for L2.</summary>
    public static Tensor Direction(Tensor grad, Threat threat)
    {
        if (threat == Threat.Linf) return grad.sign();
        Tensor norm = grad.flatten(1).norm(1, true, 2).reshape(-1, 1, 1, 1);
        return grad.div(norm.clamp_min(1e-12));
    }

    /// <summary>Projection onto the ε-ball around x0 and the [0,1] box (L2: radial rescale, then clamp).</summary>
    public static Tensor Project(Tensor x0, Tensor x, PgdAttack a)
    {
        using var scope = NewDisposeScope();
        Tensor delta = x.sub(x0);
        if (!double.IsPositiveInfinity(a.Eps))
        {
            if (a.Threat == Threat.Linf) delta = delta.clamp(-a.Eps, a.Eps);
            else
            {
                Tensor norm = delta.flatten(1).norm(1, true, 2).reshape(-1, 1, 1, 1);
                delta = delta.mul(norm.clamp_min(1e-12).reciprocal().mul(a.Eps).clamp_max(1.0));
            }
        }
        return x0.add(delta).clamp(0, 1).MoveToOuterDisposeScope();
    }

    private static Tensor RandomPoint(Tensor x0, PgdAttack a, Generator? g)
    {
        using var scope = NewDisposeScope();
        Tensor delta;
        if (a.Threat == Threat.Linf) delta = rand(x0.shape, generator: g).mul(2).sub(1).mul(a.Eps);
        else
        {
            // Uniform in the L2 ball: a Gaussian direction, radius ε·u^(1/d).
            Tensor dir = randn(x0.shape, generator: g);
            dir = dir.div(dir.flatten(1).norm(1, true, 2).reshape(-1, 1, 1, 1).clamp_min(1e-12));
            long d = x0[0].numel();
            Tensor r = rand([x0.shape[0], 1, 1, 1], generator: g).pow(1.0 / d).mul(a.Eps);
            delta = dir.mul(r);
        }
        return x0.add(delta).clamp(0, 1).MoveToOuterDisposeScope();
    }
}

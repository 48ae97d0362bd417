// The latent flows of a Latent Zoning Network (docs/methods/lzn.md "Latent flows"). A set of anchors
// a_j with weights w_j is joined to the prior N(0, I) by the straight path x_t = (1−t)·a + t·ε
// (anchors at t = 0, the prior at t = 1). Its exact marginal velocity is
//     v(x, t) = Σ_j π_j (ε_j − a_j),  ε_j = (x − (1−t)·a_j)/t,  π = softmax_j(−½‖ε_j‖² + log w_j),
// which simplifies to v = (x − Σ_j π_j a_j)/t, so one step costs an N×M matrix product, never an
// N×M×d tensor. Integrating from t0 to 1 pushes each anchor's neighbourhood onto its zone of the prior
// (the zones partition R^d with Gaussian masses w_j); integrating back from 1 to t0 tells which zone a
// latent lies in. Every function is differentiable, so losses reach the anchors through the ODE.
using static TorchSharp.torch;

namespace Gen.Generative.Lzn;

public static class LatentFlow
{
    /// <summary>The anchors' log posterior log π (N×M) at points x (N×d) and time t; <paramref name="logWeights"/> (M) may hold −∞ for absent anchors.</summary>
    public static Tensor LogPosterior(Tensor x, double t, Tensor anchors, Tensor logWeights)
    {
        using var scope = NewDisposeScope();
        // ‖x − (1−t)a_j‖² = ‖x‖² − 2(1−t) x·a_j + (1−t)²‖a_j‖², divided by t². The expansion cancels
        // badly near t0 (a squared distance of order t0² beside norms of order d), so it runs in float64.
        double s = 1 - t;
        Tensor x64 = x.to_type(ScalarType.Float64), a64 = anchors.to_type(ScalarType.Float64);
        Tensor xx = x64.square().sum(1, keepdim: true);                 // N×1
        Tensor aa = a64.square().sum(1).unsqueeze(0);                   // 1×M
        Tensor xa = x64.matmul(a64.t());                                // N×M
        Tensor sq = xx.sub(xa.mul(2 * s)).add(aa.mul(s * s)).clamp_min(0).div(t * t);
        Tensor logits = sq.mul(-0.5).add(logWeights.to_type(ScalarType.Float64).unsqueeze(0));
        return logits.log_softmax(1).to_type(x.dtype).MoveToOuterDisposeScope();
    }

    /// <summary>The marginal velocity v(x, t) = (x − π·A)/t.</summary>
    public static Tensor Velocity(Tensor x, double t, Tensor anchors, Tensor logWeights)
    {
        using var scope = NewDisposeScope();
        return VelocityFrom(x, t, LogPosterior(x, t, anchors, logWeights).exp(), anchors).MoveToOuterDisposeScope();
    }

    /// <summary>v = (x − π·A)/t for a posterior π already computed.</summary>
    private static Tensor VelocityFrom(Tensor x, double t, Tensor pi, Tensor anchors) => x.sub(pi.matmul(anchors)).div(t);

    /// <summary>Uniform log weights over M anchors.</summary>
    public static Tensor UniformLogWeights(long m, Device? device = null) => full(m, -Math.Log(m), ScalarType.Float32, device);

    /// <summary>Log weights from counts (zero counts get −∞: that anchor is absent).</summary>
    public static Tensor LogWeightsFromCounts(Tensor counts)
    {
        using var scope = NewDisposeScope();
        Tensor c = counts.to_type(ScalarType.Float32);
        Tensor w = c.div(c.sum());
        return where(c.gt(0), w.clamp_min(1e-30).log(), full_like(w, double.NegativeInfinity)).MoveToOuterDisposeScope();
    }

    /// <summary>The start point x(t0) = t0·ε + (1−t0)·a of each item's trajectory.</summary>
    public static Tensor Start(Tensor sources, Tensor noise, double t0) => sources.mul(1 - t0).add(noise.mul(t0));

    /// <summary>Integrates dx/dt = v from t0 to 1 (the item's latent) by Heun's method (second order) or
    /// Euler, on a uniform grid of <paramref name="steps"/> steps whose last one ends exactly at t = 1.</summary>
    public static Tensor Forward(Tensor start, double t0, Tensor anchors, Tensor logWeights, int steps, bool heun)
    {
        if (steps < 1) throw new ArgumentOutOfRangeException(nameof(steps), "the flow needs at least one step");
        using var scope = NewDisposeScope();
        Tensor x = start;
        double h = (1 - t0) / steps;
        for (int s = 0; s < steps; s++)
        {
            double t = t0 + s * h, tNext = s == steps - 1 ? 1.0 : t0 + (s + 1) * h;
            double dt = tNext - t;
            Tensor v = Velocity(x, t, anchors, logWeights);
            Tensor euler = x.add(v.mul(dt));
            x = heun ? x.add(v.add(Velocity(euler, tNext, anchors, logWeights)).mul(dt / 2)) : euler;
        }
        return x.MoveToOuterDisposeScope();
    }

    /// <summary>Integrates back from t = 1 to t0 with Euler and records the anchors' posterior π(t_s)
    /// where each step starts, t_s = 1 − s·(1−t0)/S for s = 0 … S−1 (S tensors N×M; s = 0 is t = 1), as
    /// the official euler_latent_flow.py does.</summary>
    public static (Tensor End, List<Tensor> Posteriors) Reverse(Tensor latent, double t0, Tensor anchors, Tensor logWeights, int steps)
    {
        if (steps < 1) throw new ArgumentOutOfRangeException(nameof(steps), "the flow needs at least one step");
        Tensor x = latent;
        double h = (1 - t0) / steps;
        var posteriors = new List<Tensor>(steps);
        for (int s = 0; s < steps; s++)
        {
            double t = 1 - s * h, tNext = s == steps - 1 ? t0 : 1 - (s + 1) * h;
            Tensor pi = LogPosterior(x, t, anchors, logWeights).exp();
            posteriors.Add(pi);
            x = x.add(VelocityFrom(x, t, pi, anchors).mul(tNext - t));
        }
        return (x, posteriors);
    }

    /// <summary>The label-alignment loss −(1/N) Σ_i max_{s ≥ ⌊cut·S⌋} π_{y_i}(t_s) of latents z (N×d)
    /// against class anchors (K×d) with class log weights (K); the cut-off drops the steps near t = 1.</summary>
    public static Tensor LabelLoss(Tensor latents, Tensor labels, Tensor classAnchors, Tensor logWeights, int steps, double t0, double cut)
    {
        using var scope = NewDisposeScope();
        var (_, posteriors) = Reverse(latents, t0, classAnchors, logWeights, steps);
        int first = (int)Math.Floor(cut * steps);
        Tensor stacked = stack(posteriors.Skip(first).ToArray(), 0);                    // T×N×K
        Tensor own = stacked.gather(2, labels.view(1, -1, 1).expand(stacked.shape[0], -1, 1)).squeeze(2); // T×N
        return own.max(0).values.mean().neg().MoveToOuterDisposeScope();
    }

    /// <summary>The index of the nearest anchor of each row of <paramref name="points"/>.</summary>
    public static Tensor Nearest(Tensor points, Tensor anchors) => NegSquaredDistance(points, anchors).argmax(1);

    /// <summary>−½‖x_i − a_k‖² (N×K), the scores whose arg-max is the nearest anchor.</summary>
    public static Tensor NegSquaredDistance(Tensor points, Tensor anchors)
    {
        using var scope = NewDisposeScope();
        Tensor sq = points.square().sum(1, keepdim: true).sub(points.matmul(anchors.t()).mul(2)).add(anchors.square().sum(1).unsqueeze(0));
        return sq.clamp_min(0).mul(-0.5).MoveToOuterDisposeScope();
    }
}

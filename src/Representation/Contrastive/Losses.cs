// The contrastive and Siamese losses as pure tensor functions (solo-learn solo/losses/*.py style).
// NT-Xent (Chen et al. 2020, SimCLR eq. 1; [solo] losses/simclr.py), MoCo's InfoNCE against a queue
// (He et al. 2020; [solo] losses/mocov2plus.py), SimSiam's negative cosine with stop-gradient (Chen & He
// 2021, eq. 1–2; [solo] losses/simsiam.py). The generalised NT-Xent takes separate anchors and
// candidates so the Hallucinator's anchors (docs/methods/representation.md §4, D-5) reuse it with their source masked out.
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn.functional;

namespace Gen.Representation.Contrastive;

public static class Losses
{
    /// <summary>
    /// NT-Xent over 2B rows: anchor i's positive is candidate p(i) = (i + B) mod 2B, its denominator runs
    /// over every candidate j ≠ i. L = −(1/2B) Σ_i log(exp(â_i·ĉ_p(i)/τ) / Σ_{j≠i} exp(â_i·ĉ_j/τ)).
    /// With anchors = candidates = [z1; z2] this is SimCLR's loss; with hallucinated anchors [h1; h2] each
    /// h_i keeps z_i's positive and candidates, its source z_i masked (docs/methods/representation.md D-5 item 3).
    /// </summary>
    public static Tensor NtXent(Tensor anchors, Tensor candidates, double tau)
    {
        using var scope = NewDisposeScope();
        long n = anchors.shape[0];
        if (n % 2 != 0 || candidates.shape[0] != n) throw new ArgumentException("NT-Xent needs 2B anchors and 2B candidates");
        Tensor a = normalize(anchors, dim: 1), c = normalize(candidates, dim: 1);
        Tensor logits = a.matmul(c.t()) / tau;
        Tensor self = eye(n, dtype: ScalarType.Bool, device: logits.device);
        logits = logits.masked_fill(self, double.NegativeInfinity);
        Tensor target = arange(n, ScalarType.Int64, logits.device).add(n / 2).remainder(n);
        return cross_entropy(logits, target).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// MoCo's ℓ(q, k, Q) = CE([q̂·k̂, q̂·Q]/τ, 0) with the queue Q as D × K columns of unit keys
    /// (the keys carry no gradient).
    /// </summary>
    public static Tensor MocoInfoNce(Tensor q, Tensor k, Tensor queue, double tau)
    {
        using var scope = NewDisposeScope();
        Tensor qn = normalize(q, dim: 1), kn = normalize(k.detach(), dim: 1);
        Tensor pos = (qn * kn).sum(1, keepdim: true);
        Tensor neg = qn.matmul(queue.detach());
        Tensor logits = cat([pos, neg], 1) / tau;
        Tensor target = zeros(q.shape[0], ScalarType.Int64, q.device);
        return cross_entropy(logits, target).MoveToOuterDisposeScope();
    }

    /// <summary>D(p, sg z) = −mean cos(p, z) with z detached (SimSiam's stop-gradient).</summary>
    public static Tensor NegativeCosine(Tensor p, Tensor z)
    {
        using var scope = NewDisposeScope();
        return cosine_similarity(p, z.detach(), 1).mean().neg().MoveToOuterDisposeScope();
    }

    /// <summary>Collapse monitor: mean over dims of the batch std of L2-normalised z (→ 0 on collapse; ≈1/√D healthy).</summary>
    public static Tensor NormalizedStd(Tensor z)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        return normalize(z.detach(), dim: 1).std(0).mean().MoveToOuterDisposeScope();
    }
}

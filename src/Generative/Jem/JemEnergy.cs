// The energy view of a classifier (docs/methods/jem-at.md §2; Grathwohl et al. 2020, JEM): with
// logits f(x), E(x) = −logsumexp_y f(x)[y], E(x, y) = −f(x)[y], and the EBM logit s(x) = −E(x).
// The stage-2 energy loss is the binary cross-entropy that gives real data low energy and contrastive
// samples high energy; the curriculum watches the AUC of s on real vs contrastive samples.
using Gen.Pipeline.Classifier;
using static TorchSharp.torch;

namespace Gen.Generative.Jem;

public static class JemEnergy
{
    /// <summary>E(x) = −logsumexp over classes: the one energy of any classifier (ClassifierEval.Energy).</summary>
    public static Tensor Energy(Tensor logits) => ClassifierEval.Energy(logits);

    /// <summary>s(x) = −E(x) = logsumexp over classes.</summary>
    public static Tensor Score(Tensor logits) => logits.logsumexp(1);

    /// <summary>E(x, y) = −f(x)[y].</summary>
    public static Tensor ClassEnergy(Tensor logits, Tensor labels) => logits.gather(1, labels.reshape(-1, 1)).squeeze(1).neg();

    /// <summary>BCE-with-logits of [s_real, s_fake] against targets [1, 0], averaged over all 2B terms:
    /// (1/2B)[Σ softplus(−s_real) + Σ softplus(s_fake)] for equal halves.</summary>
    public static Tensor BceLoss(Tensor sReal, Tensor sFake)
    {
        using var scope = NewDisposeScope();
        Tensor terms = cat([nn.functional.softplus(sReal.neg()), nn.functional.softplus(sFake)], 0);
        return terms.mean().MoveToOuterDisposeScope();
    }

    /// <summary>ROC AUC of real vs fake scores: P(s_real &gt; s_fake) + ½·P(equal), over all pairs.</summary>
    public static double Auc(Tensor sReal, Tensor sFake)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        Tensor r = sReal.detach().to_type(ScalarType.Float64).reshape(-1, 1);
        Tensor f = sFake.detach().to_type(ScalarType.Float64).reshape(1, -1);
        Tensor wins = r.gt(f).to_type(ScalarType.Float64).add(r.eq(f).to_type(ScalarType.Float64).mul(0.5));
        return wins.mean().item<double>();
    }
}

// SimSiam (Chen & He, CVPR 2021; [solo] methods/simsiam.py): projector with BN (last BN without
// affine), predictor, L = ½D(p1, sg z2) + ½D(p2, sg z1) with D the negative cosine; the predictor keeps
// a constant learning rate (paper §4.3 "fix lr" for the predictor; [solo] static_lr). With the
// Hallucinator (docs/methods/representation.md D-5): h = G(p, p_other) (partner not detached), each term ½(D(p, sg z) + D(h, sg z)).
using Gen.Pipeline.Training;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Gen.Representation.Contrastive;

public sealed class SimSiamMethod : PretrainMethod
{
    private readonly Sequential _projector;
    private readonly Sequential _predictor;

    public SimSiamMethod(PretrainConfig config, long seed) : base(config, seed)
    {
        _projector = Net.Add("projector", Heads.SimSiamProjector(config.Encoder.FeatureDim, config.ProjectorHidden, config.ProjectorOut,
                                                                 config.ProjectorLayers, Init));
        _predictor = Net.Add("predictor", Heads.SimSiamPredictor(config.ProjectorOut, config.PredictorHidden, Init));
        AddHallucinatorIfEnabled(config.LossDim);
    }

    public override IReadOnlyList<ParamGroupSpec> ParamGroups()
    {
        var all = Net.named_parameters().Where(p => p.parameter.requires_grad).ToList();
        bool IsPredictor(string name) => name.StartsWith("predictor.", StringComparison.Ordinal);
        return
        [
            new ParamGroupSpec("backbone_projector", all.Where(p => !IsPredictor(p.name)).Select(p => (p.name, p.parameter)).ToList()),
            new ParamGroupSpec("predictor", all.Where(p => IsPredictor(p.name)).Select(p => (p.name, p.parameter)).ToList(), FixedLr: true),
        ];
    }

    public override StepOutput Step(Batch batch, StepContext ctx)
    {
        Tensor x1 = Views.Contrastive(batch.Images, Config, ctx.Generator);
        Tensor x2 = Views.Contrastive(batch.Images, Config, ctx.Generator);
        Tensor z1 = _projector.call(Net.Encoder.call(x1));
        Tensor z2 = _projector.call(Net.Encoder.call(x2));
        Tensor p1 = _predictor.call(z1), p2 = _predictor.call(z2);
        Tensor t1 = Losses.NegativeCosine(p1, z2), t2 = Losses.NegativeCosine(p2, z1);
        var metrics = new Dictionary<string, Tensor> { ["z_std"] = Losses.NormalizedStd(z1) };
        if (Hallucinator is { } g)
        {
            double lambda = Lambda(ctx);
            Tensor h1 = g.Hallucinate(p1, p2, lambda), h2 = g.Hallucinate(p2, p1, lambda);
            Tensor th1 = Losses.NegativeCosine(h1, z2), th2 = Losses.NegativeCosine(h2, z1);
            metrics["loss_real"] = ((t1 + t2) * 0.5).detach();
            metrics["loss_hal"] = ((th1 + th2) * 0.5).detach();
            metrics["lambda"] = tensor((float)lambda);
            t1 = (t1 + th1) * 0.5;
            t2 = (t2 + th2) * 0.5;
        }
        return new StepOutput((t1 + t2) * 0.5, metrics);
    }
}

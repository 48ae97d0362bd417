// SimCLR (Chen et al., ICML 2020; [solo] methods/simclr.py): two views through encoder and projector,
// NT-Xent over the 2B projections (τ 0.2). With the Hallucinator (docs/methods/representation.md D-5): z1←z2 and z2←z1
// hallucinations join as extra anchors with their source's positive and candidates (source masked),
// and the loss becomes ½(L_real + L_hal).
using Gen.Pipeline.Training;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Gen.Representation.Contrastive;

public sealed class SimClrMethod : PretrainMethod
{
    private readonly Sequential _projector;

    public SimClrMethod(PretrainConfig config, long seed) : base(config, seed)
    {
        _projector = Net.Add("projector", Heads.Projector(config.Encoder.FeatureDim, config.ProjectorHidden, config.ProjectorOut, Init));
        AddHallucinatorIfEnabled(config.LossDim);
    }

    public override StepOutput Step(Batch batch, StepContext ctx)
    {
        Tensor x1 = Views.Contrastive(batch.Images, Config, ctx.Generator);
        Tensor x2 = Views.Contrastive(batch.Images, Config, ctx.Generator);
        Tensor z1 = _projector.call(Net.Encoder.call(x1));
        Tensor z2 = _projector.call(Net.Encoder.call(x2));
        Tensor z = cat([z1, z2], 0);
        Tensor loss = Losses.NtXent(z, z, Config.Temperature);
        var metrics = new Dictionary<string, Tensor> { ["z_std"] = Losses.NormalizedStd(z1) };
        if (Hallucinator is { } g)
        {
            double lambda = Lambda(ctx);
            Tensor h = cat([g.Hallucinate(z1, z2, lambda), g.Hallucinate(z2, z1, lambda)], 0);
            Tensor lossHal = Losses.NtXent(h, z, Config.Temperature);
            metrics["loss_real"] = loss.detach();
            metrics["loss_hal"] = lossHal.detach();
            metrics["lambda"] = tensor((float)lambda);
            loss = (loss + lossHal) * 0.5;
        }
        return new StepOutput(loss, metrics);
    }
}

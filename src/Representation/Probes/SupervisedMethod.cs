// The supervised ceiling for the probes: the same encoder with a linear head trained on labels with
// cross-entropy, crop-and-flip augmentation (He et al. 2016 §4.2), so its test accuracy and the linear
// probe of its frozen features bound what the self-supervised methods can reach on this encoder.
using Gen.Pipeline;
using Gen.Pipeline.Training;
using Gen.Representation.Contrastive;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Gen.Representation.Probes;

public sealed class SupervisedMethod : PretrainMethod
{
    private readonly Linear _head;

    public SupervisedMethod(PretrainConfig config, long seed) : base(config, seed)
    {
        _head = Net.Add("head", Heads.Classifier(config.Encoder.FeatureDim, config.Classes, Init));
    }

    public Linear Head => _head;

    public override StepOutput Step(Batch batch, StepContext ctx)
    {
        if (batch.Labels.lt(0).any().item<bool>())
            throw new GenInputException("--method supervised needs labelled images; this dataset has unlabelled ones");
        Tensor x = Views.CropFlip(batch.Images, Config, ctx.Generator);
        Tensor logits = _head.call(Net.Encoder.call(x));
        Tensor loss = nn.functional.cross_entropy(logits, batch.Labels);
        Tensor acc = logits.argmax(1).eq(batch.Labels).to_type(ScalarType.Float32).mean();
        return new StepOutput(loss, new Dictionary<string, Tensor> { ["train_acc"] = acc });
    }
}

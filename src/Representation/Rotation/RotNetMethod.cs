// RotNet (Gidaris, Singh, Komodakis, ICLR 2018; gidariss/FeatureLearningRotNet): every image of the
// batch appears four times, rotated k·90° counter-clockwise with label k (dataloader.py rotate_img,
// torch.rot90 over H, W), after a random crop with padding and a flip; 4-way cross-entropy on a linear
// head over the pooled feature (NetworkInNetwork.py: GAP then Linear(192, 4)).
using Gen.Pipeline.Data;
using Gen.Pipeline.Training;
using Gen.Representation.Contrastive;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Gen.Representation.Rotation;

public sealed class RotNetMethod : PretrainMethod
{
    public const int Rotations = 4;   // 4 beat 8 and 2 in the paper (Table 1–3)

    private readonly Linear _head;

    public RotNetMethod(PretrainConfig config, long seed) : base(config, seed)
    {
        _head = Net.Add("head", Heads.Classifier(config.Encoder.FeatureDim, Rotations, Init));
    }

    /// <summary>The batch rotated by 0°, 90°, 180°, 270° (concatenated in that order) and labels 0..3 per image.</summary>
    public static (Tensor Images, Tensor Labels) Rotate(Tensor x) => Augment.AllRotations(x);

    public override StepOutput Step(Batch batch, StepContext ctx)
    {
        Tensor x = Views.CropFlip(batch.Images, Config, ctx.Generator);
        var (images, labels) = Rotate(x);
        Tensor logits = _head.call(Net.Encoder.call(images));
        Tensor loss = nn.functional.cross_entropy(logits, labels);
        Tensor acc = logits.argmax(1).eq(labels).to_type(ScalarType.Float32).mean();
        return new StepOutput(loss, new Dictionary<string, Tensor> { ["rot_acc"] = acc });
    }
}

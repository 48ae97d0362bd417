// Supervised classification as a training method: standard augmentation, normalisation,
// cross-entropy (optionally label-smoothed, Szegedy et al. 2016), batch accuracy as a metric.
using Gen.Pipeline.Data;
using Gen.Pipeline.Models;
using Gen.Pipeline.Training;
using static TorchSharp.torch;

namespace Gen.Pipeline.Classifier;

public sealed class ClassifierMethod : ITrainMethod
{
    public const string KindName = "classifier";

    private readonly ResNet _model;

    public ClassifierMethod(ClassifierConfig config, Generator init)
    {
        config.Validate();
        Config = config;
        _model = new ResNet(config.ResNet, init);
    }

    public ClassifierConfig Config { get; }
    public ResNet Network => _model;
    public string Kind => KindName;
    public string ConfigJson => Json.Serialize(Config, indented: false);
    public nn.Module Model => _model;

    public Tensor Preprocess(Tensor images01, Generator? augment)
    {
        using var scope = NewDisposeScope();
        Tensor x = images01;
        if (augment is not null && Config.Augmentation != AugmentationKind.None)
        {
            x = Augment.RandomCropWithPadding(x, Config.CropPadding, augment);
            if (Config.Augmentation == AugmentationKind.CropFlip) x = Augment.HorizontalFlip(x, 0.5, augment);
        }
        return Augment.Normalize(x, Config.Mean, Config.Std).MoveToOuterDisposeScope();
    }

    public StepOutput Step(Batch batch, StepContext ctx)
    {
        Tensor x = Preprocess(batch.Images, ctx.Generator);
        Tensor logits = _model.call(x);
        Tensor loss = nn.functional.cross_entropy(logits, batch.Labels, label_smoothing: Config.LabelSmoothing);
        Tensor acc = logits.argmax(1).eq(batch.Labels).to_type(ScalarType.Float32).mean();
        return new StepOutput(loss, new Dictionary<string, Tensor> { ["train_acc"] = acc });
    }

    public void Dispose() => _model.Dispose();
}

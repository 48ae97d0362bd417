// One training step of the energy model (docs/methods/jem-at.md §2), for its three stages:
//  * plain: cross-entropy on augmented images (the baseline of the robustness comparison);
//  * 1: adversarial training, CE(f(x'), y) with x' = PGD maximising the CE, BatchNorm in train mode;
//  * 2: dual adversarial training. BatchNorm statistics frozen (γ/β train). The batch is split into
//    two independent real halves: x_g for the energy loss and x_c for the classifier's adversarial
//    training. Contrastive samples x̃ = T steps of class-conditional ascent on f(x)[y_g] from p0
//    (made from x_c's raw images); L = BCE([s(x_g), s(x̃)], [1, 0]) + CE(f(x_c'), y_c). After each
//    step the real-vs-contrastive AUC enters the T curriculum (CurriculumState).
// With frozen statistics f is a per-sample function, so the three groups share one forward pass.
using Gen.Pipeline;
using Gen.Pipeline.Classifier;
using Gen.Pipeline.Data;
using Gen.Pipeline.Training;
using static TorchSharp.torch;

namespace Gen.Generative.Jem;

public sealed class JemMethod : ITrainMethod
{
    public const string KindName = "jem";

    private readonly JemNetwork _net;

    public JemMethod(JemConfig config, Generator init)
    {
        config.Validate();
        Config = config;
        _net = new JemNetwork(config, init);
    }

    public JemConfig Config { get; }
    public JemNetwork Network => _net;
    public string Kind => KindName;
    public string ConfigJson => Json.Serialize(Config, indented: false);
    public nn.Module Model => _net;

    public IReadOnlyDictionary<string, string> Metadata => new Dictionary<string, string>
    {
        ["gen.jem.stage"] = Config.Stage,
        ["gen.jem.params"] = _net.ParameterCount.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    /// <summary>A warm start copies the network, not the curriculum: every stage 2 starts at T = 0
    /// (docs/methods/jem-at.md §2), whatever run its weights come from.</summary>
    public bool WarmStarts(string tensorName) => !tensorName.StartsWith("curriculum.", StringComparison.Ordinal);

    /// <summary>Random shift (zero-padded crop) and, unless digits, horizontal flip.</summary>
    public Tensor Augment(Tensor images01, Generator g)
    {
        using var scope = NewDisposeScope();
        Tensor x = images01;
        if (Config.CropPadding > 0) x = Pipeline.Data.Augment.RandomCropWithPadding(x, Config.CropPadding, g);
        if (Config.Flip) x = Pipeline.Data.Augment.HorizontalFlip(x, 0.5, g);
        return x.MoveToOuterDisposeScope();
    }

    /// <summary>The contrastive ascent of T steps (L2, unbounded, step α_g) on f(x)[y].</summary>
    public PgdAttack Ascent(int steps) =>
        new(Threat.L2, double.PositiveInfinity, steps, Config.GenStepSize) { Objective = PgdObjective.ClassLogit };

    public StepOutput Step(Batch batch, StepContext ctx) => Config.Stage switch
    {
        JemConfig.StagePlain => Plain(batch, ctx.Generator),
        JemConfig.Stage1 => AdversarialTraining(batch, ctx.Generator),
        _ => DualAdversarialTraining(batch, ctx.Generator),
    };

    private StepOutput Plain(Batch batch, Generator g)
    {
        Tensor logits = _net.call(Augment(batch.Images, g));
        Tensor loss = nn.functional.cross_entropy(logits, batch.Labels);
        return new StepOutput(loss, new Dictionary<string, Tensor> { ["train_acc"] = Accuracy(logits, batch.Labels) });
    }

    private StepOutput AdversarialTraining(Batch batch, Generator g)
    {
        Tensor x = Augment(batch.Images, g);
        Tensor adv = Pgd.Run(_net.call, x, batch.Labels, Config.TrainingAttack());
        Tensor logits = _net.call(adv);
        Tensor loss = nn.functional.cross_entropy(logits, batch.Labels);
        return new StepOutput(loss, new Dictionary<string, Tensor> { ["adv_acc"] = Accuracy(logits, batch.Labels) });
    }

    private StepOutput DualAdversarialTraining(Batch batch, Generator g)
    {
        long b = batch.Images.shape[0];
        if (b < 2) throw new GenInputException($"stage 2 splits each batch into two halves; --batch must be at least 2, got {b}");
        _net.FreezeBatchNorm();
        long h = b / 2;
        Tensor rawG = batch.Images.narrow(0, 0, h), rawC = batch.Images.narrow(0, h, b - h);
        Tensor yG = batch.Labels.narrow(0, 0, h), yC = batch.Labels.narrow(0, h, b - h);
        Tensor xG = Augment(rawG, g), xC = Augment(rawC, g);

        int t = _net.Curriculum.T;
        Tensor seeds = P0.Batch(rawC.narrow(0, 0, h), g);
        Tensor contrastive = Pgd.Run(_net.call, seeds, yG, Ascent(t));
        Tensor advC = Pgd.Run(_net.call, xC, yC, Config.TrainingAttack());

        Tensor logits = _net.call(cat([xG, contrastive, advC], 0));
        Tensor s = JemEnergy.Score(logits.narrow(0, 0, 2 * h));
        Tensor sReal = s.narrow(0, 0, h), sFake = s.narrow(0, h, h);
        Tensor bce = JemEnergy.BceLoss(sReal, sFake);
        Tensor logitsC = logits.narrow(0, 2 * h, b - h);
        Tensor ce = nn.functional.cross_entropy(logitsC, yC);

        double auc = JemEnergy.Auc(sReal, sFake);
        _net.Curriculum.Add(auc, Config.AucThreshold, Config.TMax);
        return new StepOutput(bce.add(ce), new Dictionary<string, Tensor>
        {
            ["bce"] = bce.detach(),
            ["ce"] = ce.detach(),
            ["auc"] = tensor((float)auc),
            ["t"] = tensor((float)t),
            ["adv_acc"] = Accuracy(logitsC, yC),
            ["s_real"] = sReal.detach().mean(),
            ["s_contrastive"] = sFake.detach().mean(),
        });
    }

    private static Tensor Accuracy(Tensor logits, Tensor labels) =>
        logits.detach().argmax(1).eq(labels).to_type(ScalarType.Float32).mean();

    public void Dispose() => _net.Dispose();
}

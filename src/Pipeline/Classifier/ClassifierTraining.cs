// The supervised classifier as a registered method (docs/methods/classifier.md): its options, its
// recipe, the training plan (test accuracy as the evaluation hook) and its checkpoints opened as an
// IClassifier.
using System.Globalization;
using System.Text.Json.Nodes;
using Gen.Pipeline.Checkpoints;
using Gen.Pipeline.Data;
using Gen.Pipeline.Methods;
using Gen.Pipeline.Models;
using Gen.Pipeline.Training;
using static TorchSharp.torch;

namespace Gen.Pipeline.Classifier;

public sealed record ClassifierParams : TrainParams
{
    [Param("Evaluation data (default: the test split of --data)")]
    public string? EvalData { get; init; }

    [Param("Channels of the first stage; stages use width·(1,2,4)")]
    public int Width { get; init; } = 32;

    [Param("BasicBlocks per stage, e.g. 2,2,2")]
    public int[] Blocks { get; init; } = [2, 2, 2];

    [Param("Stride of the first convolution (1 or 2)")]
    public int StemStride { get; init; } = 2;

    [Param("Label smoothing of the cross-entropy")]
    public double LabelSmoothing { get; init; }

    public override void Validate()
    {
        if (Width <= 0) throw new GenInputException($"--width must be positive, got {Width}");
        if (Blocks.Length != 3 || Blocks.Any(b => b <= 0))
            throw new GenInputException($"--blocks takes three positive counts (one per stage), got {string.Join(",", Blocks)}");
    }
}

public sealed class ClassifierTraining : Method<ClassifierParams, ClassifierConfig>
{
    public override string Name => ClassifierMethod.KindName;
    public override string Summary => "Train a small ResNet classifier (e.g. on Fashion-MNIST) and report its test accuracy";
    public override IReadOnlyList<string> CheckpointKinds => [ClassifierMethod.KindName];
    public override IReadOnlyList<Type> Capabilities => [typeof(IClassifier), typeof(IConvClassifier), typeof(Onnx.IOnnxExportable)];

    // The default recipe, measured in bench/classifier (figures in bench/RESULTS.md): width 32 with a
    // stride-2 stem (stage widths 32/64/128 at 14/7/4 px), SGD + Nesterov, 200 warm-up steps then cosine
    // decay, batch 128, 12 epochs. The stride-2 stem trains about 4× faster than stride 1 at this width,
    // which is what fits 12 epochs into a 10-minute budget on 2 cores (docs/methods/classifier.md).
    public override TrainConfig Recipe(ClassifierParams p, int? batch) => new()
    {
        Epochs = 12,
        Batch = 128,
        Lr = 0.1,
        Optimizer = OptimizerKind.Sgd,
        Momentum = 0.9,
        Nesterov = true,
        WeightDecay = 5e-4,
        WarmupSteps = 200,
        Schedule = LrScheduleKind.Cosine,
    };

    public override ClassifierConfig BuildConfig(ClassifierParams p, ImageSet data)
    {
        if (data.ClassCount < 2)
            throw new GenInputException($"'{p.Data}' has {data.ClassCount} class(es); a classifier needs labelled images of at least two classes");
        var resnet = new ResNetConfig { Widths = [p.Width, 2 * p.Width, 4 * p.Width], Blocks = p.Blocks, StemStride = p.StemStride };
        return ClassifierConfig.For(data, resnet) with { LabelSmoothing = p.LabelSmoothing, Dataset = p.Data };
    }

    public override TrainPlan Plan(ClassifierParams p, ClassifierConfig config, TrainConfig train, ImageSet data, TrainContext ctx)
    {
        ImageSet test = DatasetCatalog.Load(p.EvalData ?? DatasetCatalog.WithSplit(p.Data, Split.Test), Split.Test, ctx.Log);
        ClassifierEval.CheckCompatible(config, test);
        using var init = new Generator((ulong)train.Seed);
        var method = new ClassifierMethod(config, init);
        var model = new ClassifierModel(method.Network, config, "", 0, owns: false);
        var hook = new TrainHook("test_acc", train.EvalEvery, (_, _) =>
            new Dictionary<string, double> { ["test_acc"] = ClassifierEval.Evaluate(model, test).Accuracy });
        return new TrainPlan
        {
            Method = method,
            Train = train,
            Hooks = [hook],
            RunInfo = new JsonObject { ["eval_data"] = test.Name },
        };
    }

    public override string Describe(TrainResult result) =>
        result.FinalMetrics.TryGetValue("test_acc", out double a)
            ? "test accuracy " + (100 * a).ToString("F2", CultureInfo.InvariantCulture) + "%"
            : "";

    public override IModel Load(string file, CheckpointInfo info, JsonObject sampleSettings) => ClassifierModel.Load(file);
}

/// <summary>A classifier checkpoint as an IClassifier: normalisation, then the ResNet.</summary>
public sealed class ClassifierModel(ResNet network, ClassifierConfig config, string path, long step, bool owns = true) : IModel, IConvClassifier, Onnx.IOnnxImageModel
{
    public ResNet Network => network;
    public ClassifierConfig Config => config;
    public string Path => path;
    public long Step => step;
    public string Kind => ClassifierMethod.KindName;
    public string Description => $"classifier step {step}";
    public int Channels => config.ResNet.InChannels;
    public int Height => config.ImageSize;
    public int Width => config.ImageSize;
    public IReadOnlyList<string> ClassNames => config.ClassNames;
    public int Classes => config.ResNet.Classes;
    public string TrainingData => config.Dataset;

    public Tensor Logits(Tensor images01)
    {
        using var scope = NewDisposeScope();
        return network.call(Augment.Normalize(images01, config.Mean, config.Std)).MoveToOuterDisposeScope();
    }

    /// <summary>Grad-CAM's layer: the last stage's output (after its ReLU, before global pooling).</summary>
    public string CamLayer => $"layer{config.ResNet.Widths.Length}";

    public Tensor CamActivations(Tensor images01)
    {
        using var scope = NewDisposeScope();
        return network.FeatureMap(Augment.Normalize(images01, config.Mean, config.Std)).MoveToOuterDisposeScope();
    }

    public Tensor CamScores(Tensor activations) => network.Head(nn.functional.adaptive_avg_pool2d(activations, 1).flatten(1));

    public string OnnxRole => Onnx.OnnxModels.ClassifierRole;

    /// <summary>images [0,1] → normalisation → the ResNet → logits.</summary>
    public void WriteOnnx(Onnx.OnnxGraph g) => Onnx.OnnxModels.WriteClassifier(g, this, config.Mean, config.Std, network);

    public Tensor Reference(Tensor input) => Logits(input);

    /// <summary>Rebuilds a classifier from its checkpoint (kind and every shape checked).</summary>
    public static ClassifierModel Load(string path)
    {
        var (file, info) = Checkpoint.Open(path, ClassifierMethod.KindName);
        ClassifierConfig config = Json.Deserialize<ClassifierConfig>(info.ConfigJson, $"the config in '{file.Path}'");
        config.Validate();
        var model = new ResNet(config.ResNet);
        Checkpoint.LoadInto(model, file);
        model.eval();
        return new ClassifierModel(model, config, file.Path, info.Step);
    }

    public void Dispose()
    {
        if (owns) network.Dispose();
    }
}

// Training and export of the Fashion-MNIST extractor through the foundation's one loop (Trainer).
// Recipe (docs/methods/metrics.md §7.3): Fashion-MNIST train (60k), Adam lr 1e-3, batch 128, seed 0, cosine decay, horizontal
// flips (clothes are mirror-symmetric); the target is ≥ 90% test accuracy. 10 epochs rather than 5: 5 left the
// network under-fitted, and 10 come closer but stay just short of the target (figures in bench/RESULTS.md
// "Metrics"). Export freezes the
// last weights as assets/metrics/fmnist_extractor.safetensors, computes the test-split statistics
// (fashion-mnist-test.fmnist.npz) and records hashes, accuracy and the real-vs-real floor in a JSON.
using System.Text.Json.Nodes;
using Gen.Metrics.Features;
using Gen.Metrics.Sources;
using Gen.Metrics.Stats;
using Gen.Pipeline;
using Gen.Pipeline.Checkpoints;
using Gen.Pipeline.Data;
using Gen.Pipeline.Training;
using static TorchSharp.torch;

namespace Gen.Metrics.Fmnist;

public sealed class FmnistExtractorMethod : ITrainMethod
{
    public const string KindName = "fmnist-extractor";

    private readonly FmnistNet _net;

    public FmnistExtractorMethod(FmnistNetConfig config, Generator init) => _net = new FmnistNet(config, init);

    public string Kind => KindName;
    public string ConfigJson => Json.Serialize(_net.Config, indented: false);
    public nn.Module Model => _net;
    public FmnistNet Network => _net;

    public StepOutput Step(Batch batch, StepContext ctx)
    {
        Tensor x = _net.Normalize(Augment.HorizontalFlip(batch.Images, 0.5, ctx.Generator));
        Tensor logits = _net.call(x);
        Tensor loss = nn.functional.cross_entropy(logits, batch.Labels);
        Tensor acc = logits.argmax(1).eq(batch.Labels).to_type(ScalarType.Float32).mean();
        return new StepOutput(loss, new Dictionary<string, Tensor> { ["train_acc"] = acc });
    }

    public void Dispose() => _net.Dispose();
}

public static class FmnistExtractorTraining
{
    public const double AcceptAccuracy = 0.90;   // docs/methods/metrics.md §7.3 target

    public static readonly TrainConfig Recipe = new()
    {
        Epochs = 10,   // 5 epochs: 88.41%, 10 epochs: 89.86% test accuracy (the shipped asset); both below the 90% goal
        Batch = 128,
        Lr = 1e-3,
        Optimizer = OptimizerKind.Adam,
        WeightDecay = 0,
        Schedule = LrScheduleKind.Cosine,
        Seed = 0,
    };

    public static TrainResult Train(string dataSpec, TrainConfig config, string runDir, IProgress<TrainProgress>? progress,
                                    CancellationToken cancel, IProgress<string>? log = null)
    {
        ImageSet train = DatasetCatalog.Load(dataSpec, Split.Train, log);
        ImageSet test = DatasetCatalog.Load(WithSplit(dataSpec, Split.Test), Split.Test, log);
        if (train.Channels != 1 || train.Height != 28 || train.Width != 28)
            throw new GenInputException($"the Fashion-MNIST extractor trains on 1×28×28 images; '{train.Name}' has {train.Channels}×{train.Height}×{train.Width}");
        using var init = new Generator((ulong)config.Seed);
        using var method = new FmnistExtractorMethod(new FmnistNetConfig(), init);
        var hook = new TrainHook("test_acc", config.EvalEvery, (m, _) => new Dictionary<string, double> { ["test_acc"] = Accuracy((FmnistNet)m, test) });
        var trainer = new Trainer(method, train, config, new RunOptions { CheckpointEvery = 0 }, runDir, progress, [hook],
                                  new JsonObject { ["stage"] = "train-fmnist-extractor", ["eval_data"] = test.Name });
        return trainer.Run(resume: false, cancel);
    }

    public static double Accuracy(FmnistNet net, ImageSet data)
    {
        net.eval();
        return Gen.Pipeline.Classifier.ClassifierEval.Evaluate(net, data, 1000).Accuracy;
    }

    /// <summary>Freezes a trained run into the bundled asset files; returns the JSON record written beside them.</summary>
    public static JsonObject Export(string runDir, string assetsDir, string dataSpec, IProgress<string>? log = null)
    {
        string last = Trainer.LastPath(runDir);
        var (_, info) = Checkpoint.Open(last, FmnistExtractorMethod.KindName);
        Directory.CreateDirectory(assetsDir);
        string weightsPath = Path.Combine(assetsDir, FmnistExtractor.WeightsFile);
        File.Copy(last, weightsPath, overwrite: true);
        string sha = Inception.InceptionWeights.FileSha256(weightsPath);

        using var extractor = FmnistExtractor.FromFile(weightsPath, sha);
        ImageSet test = DatasetCatalog.Load(WithSplit(dataSpec, Split.Test), Split.Test, log);
        ImageSet train = DatasetCatalog.Load(dataSpec, Split.Train, log);
        double acc = Accuracy(extractor.Network, test);
        GaussianStats testStats = FeatureRunner.Stats(extractor, new ImageSetSource(test), 500);
        string statsPath = Path.Combine(assetsDir, FmnistExtractor.TestStatsFile);
        testStats.Save(statsPath);
        // The real-vs-real floor: the first 10k training images against the test split (FD-FMNIST's "zero").
        GaussianStats trainStats = FeatureRunner.Stats(extractor, new ImageSetSource(train.Take(10_000)), 500);
        double floor = Frechet.Distance(trainStats, testStats).Distance;
        var record = new JsonObject
        {
            ["network"] = "FmnistNet conv3x3 32-64-128 + BN + ReLU, maxpool x2, GAP (128-d), fc 10",
            ["weights_file"] = FmnistExtractor.WeightsFile,
            ["weights_sha256"] = sha,
            ["stats_file"] = FmnistExtractor.TestStatsFile,
            ["stats_sha256"] = Inception.InceptionWeights.FileSha256(statsPath),
            ["stats_data"] = test.Name,
            ["stats_n"] = test.Count,
            ["test_accuracy"] = acc,
            ["accepted"] = acc >= AcceptAccuracy,
            ["fd_fmnist_train10k_vs_test"] = floor,
            ["trained_steps"] = info.Step,
            ["made_by"] = $"gen metrics train-extractor --out {runDir} --export {assetsDir} (or: gen metrics export-extractor {runDir} --export {assetsDir})",
            ["gen_version"] = GenPaths.Version,
            ["train_config"] = RunTrainConfig(runDir),
        };
        AtomicFile.WriteAllText(Path.Combine(assetsDir, "fmnist_extractor.json"), record.ToJsonString(Json.Options));
        return record;
    }

    /// <summary>The training options the run really used (its config.json), for the export record.</summary>
    private static JsonNode? RunTrainConfig(string runDir)
    {
        string path = Path.Combine(runDir, Trainer.ConfigFile);
        return File.Exists(path) ? JsonNode.Parse(File.ReadAllText(path))?["train"]?.DeepClone() : null;
    }

    private static string WithSplit(string spec, Split split)
    {
        var r = DatasetRef.Parse(spec);
        return $"{r.ShortName ?? r.Path}:{DatasetCatalog.SplitName(split)}";
    }
}

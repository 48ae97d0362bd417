// A jem checkpoint as a classifier and a sampler (docs/methods/jem-at.md §1, §4).
// It classifies like any classifier (its logits also give the energy), and it generates by the
// official code's deterministic ascent: from a p0 seed, K steps of x ← clip(x + α·g/‖g‖₂) with
// g = ∇x f(x)[y], no noise. Image i uses only seed i (its p0 draw and class seed mod K unless --class),
// and BatchNorm is in eval mode, so an image does not depend on its batch.
using System.Globalization;
using System.Text.Json.Nodes;
using Gen.Pipeline;
using Gen.Pipeline.Checkpoints;
using Gen.Pipeline.Classifier;
using Gen.Pipeline.Data;
using Gen.Pipeline.Methods;
using static TorchSharp.torch;

namespace Gen.Generative.Jem;

public sealed class JemModel(JemNetwork network, JemConfig config, string path, long step, bool owns = true, JemSampleSettings? sampling = null)
    : IModel, IConvClassifier, IClassConditionalSampler, Gen.Pipeline.Onnx.IOnnxImageModel
{
    public const int DefaultSteps = 60;
    public const double DefaultStepSize = 0.25;
    private const int SampleBatch = 100;

    private readonly JemSampleSettings _sampling = sampling ?? new JemSampleSettings();
    private ImageSet? _p0Pool;
    private bool _p0Loaded;

    public JemNetwork Network => network;
    public JemConfig Config => config;
    public string Path => path;
    public long Step => step;
    public string Kind => JemMethod.KindName;
    public string Description => $"jem stage {config.Stage} step {step}";
    public int Channels => config.InChannels;
    public int Height => config.ImageSize;
    public int Width => config.ImageSize;
    public IReadOnlyList<string> ClassNames => config.ClassNames;
    public int Classes => config.Classes;
    public string TrainingData => config.Dataset;

    public int SampleSteps => _sampling.Steps ?? DefaultSteps;
    public double SampleStepSize => _sampling.StepSize ?? DefaultStepSize;

    public Tensor Logits(Tensor images01) => network.call(images01);

    public string CamLayer => network.CamLayer;
    public Tensor CamActivations(Tensor images01) => network.CamActivations(images01);
    public Tensor CamScores(Tensor activations) => network.CamScores(activations);

    public string OnnxRole => Gen.Pipeline.Onnx.OnnxModels.ClassifierRole;

    /// <summary>The classifier (normalisation inside, as in TorchSharp); the sampler loop stays in C#.</summary>
    public void WriteOnnx(Gen.Pipeline.Onnx.OnnxGraph g) => Gen.Pipeline.Onnx.OnnxModels.WriteClassifier(g, this, config.Mean, config.Std, network.Body);

    public Tensor Reference(Tensor input) => Logits(input);

    public int ClassOfSeed(long seed) => _sampling.Class ?? IClassConditionalSampler.SeedClass(seed, Classes);

    public byte[] SampleUint8(int count, long firstSeed, IProgress<int>? progress = null) =>
        ((IImageSampler)this).Sample(Enumerable.Range(0, count).Select(i => firstSeed + i).ToList(), progress);

    public byte[] Sample(IReadOnlyList<long> seeds, IProgress<int>? progress = null, CancellationToken cancel = default)
    {
        if (_sampling.Class is { } k && (k < 0 || k >= Classes))
            throw new GenInputException($"--class must be in 0..{Classes - 1} for this checkpoint, got {k}");
        if (SampleSteps < 0) throw new GenInputException($"--steps must be zero or positive, got {SampleSteps}");
        if (!(SampleStepSize > 0)) throw new GenInputException($"--step-size must be positive, got {SampleStepSize}");
        network.eval();
        ImageSet? pool = P0Pool();
        var ascent = new PgdAttack(Threat.L2, double.PositiveInfinity, SampleSteps, SampleStepSize) { Objective = PgdObjective.ClassLogit };
        return Batches.GenerateInChunks(seeds.Count, SampleBatch, Channels * Height * Width, (start, n) =>
        {
            var x0 = new List<Tensor>(n);
            var labels = new long[n];
            for (int i = 0; i < n; i++)
            {
                long seed = seeds[start + i];
                using var g = new Generator(unchecked((ulong)seed));
                x0.Add(P0.One(g, pool, Channels, Height, Width));
                labels[i] = ClassOfSeed(seed);
            }
            return Pgd.Run(network.call, cat(x0, 0), tensor(labels, ScalarType.Int64), ascent);
        }, progress, cancel);
    }

    /// <summary>The training images whose shuffled patches make half of p0 (loaded once; noise-only when
    /// the checkpoint names no dataset this machine has).</summary>
    private ImageSet? P0Pool()
    {
        if (_p0Loaded) return _p0Pool;
        _p0Loaded = true;
        if (config.Dataset.Length == 0) return null;
        _p0Pool = DatasetCatalog.Load(config.Dataset, Split.Train);
        if (_p0Pool.Channels != Channels || _p0Pool.Height != Height || _p0Pool.Width != Width)
            throw new GenInputException($"the p0 pool '{config.Dataset}' no longer has {Channels}×{Height}×{Width} images; the checkpoint was trained on other data");
        return _p0Pool;
    }

    public JsonObject LastRun => new()
    {
        ["kind"] = JemMethod.KindName,
        ["sampler"] = "pgd-ascent",
        ["steps"] = SampleSteps,
        ["step_size"] = SampleStepSize,
        ["details"] = string.Create(CultureInfo.InvariantCulture, $"{SampleSteps} ascent steps of {SampleStepSize:G3} from p0 (T reached in training: {network.Curriculum.T})"),
    };

    public static JemModel Load(string path, JemSampleSettings? sampling = null)
    {
        var (file, info) = Checkpoint.Open(path, JemMethod.KindName);
        JemConfig config = Json.Deserialize<JemConfig>(info.ConfigJson, $"the config in '{file.Path}'");
        config.Validate();
        var net = new JemNetwork(config);
        Checkpoint.LoadInto(net, file);
        net.eval();
        return new JemModel(net, config, file.Path, info.Step, sampling: sampling);
    }

    public void Dispose()
    {
        if (owns) network.Dispose();
    }
}

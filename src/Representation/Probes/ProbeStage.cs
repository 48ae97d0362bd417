// The probe stage: frozen features of a pretrained encoder (or of a random-init encoder of the same
// architecture, or raw pixels: the floors) → linear-probe and weighted-kNN test accuracy
// (docs/methods/representation.md §5), written as probe.json. The encoder is rebuilt from the
// checkpoint's config and its "encoder." tensors alone; heads are ignored.
using System.Diagnostics;
using Gen.Pipeline;
using Gen.Pipeline.Checkpoints;
using Gen.Pipeline.Data;
using Gen.Pipeline.Methods;
using Gen.Pipeline.Stages;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gen.Representation.Encoders;
using static TorchSharp.torch;

namespace Gen.Representation.Probes;

public enum ProbeSource { Checkpoint, RandomInit, RawPixels }

public sealed record ProbeParams
{
    public string? Checkpoint { get; init; }
    public bool RandomInit { get; init; }
    public bool RawPixels { get; init; }
    public EncoderArch Encoder { get; init; } = EncoderArch.Resnet10s;   // for --random-init
    [Param("Dataset (default: the checkpoint's); its train split fits, its test split scores")]
    public string? Data { get; init; }
    [Param("Feature layer: pool or blockN (default: the encoder's, docs/methods/representation.md D-3)")]
    public string? Layer { get; init; }
    [Param("Run the linear probe")]
    public bool Linear { get; init; } = true;
    [Param("Run the kNN probe")]
    public bool Knn { get; init; } = true;
    [Param("kNN neighbours")]
    public int K { get; init; } = Probes.Knn.DefaultK;
    [Param("kNN temperature")]
    public double KnnT { get; init; } = Probes.Knn.DefaultT;
    public LinearProbeOptions LinearOptions { get; init; } = new();
    [Param("Seed of the linear probe's order (and of --random-init weights)")]
    public long Seed { get; init; }
    [Param("libtorch intra-op threads (0 = default)")]
    public int Threads { get; init; }
    [Param("Images per feature-extraction batch")]
    public int Batch { get; init; } = 500;
    public string? Out { get; init; }
}

public sealed record ProbeLinear(double Top1, double Top5, double TrainTop1, string Protocol, int Epochs);
public sealed record ProbeKnn(int K, double T, double Top1, double Top5);

public sealed record ProbeResult
{
    public required string Source { get; init; }
    public string? Checkpoint { get; init; }
    public string? Method { get; init; }
    public bool? Hallucinator { get; init; }
    public long? Seed { get; init; }
    public long? Step { get; init; }
    public required string Encoder { get; init; }
    public required string Layer { get; init; }
    public long FeatureDim { get; init; }
    public required string Data { get; init; }
    public ProbeLinear? Linear { get; init; }
    public ProbeKnn? Knn { get; init; }
    public ProbeKnn? KnnAlt { get; init; }
    public double FeatureSeconds { get; init; }
    public double ElapsedSeconds { get; init; }
    public string? Written { get; init; }
}

public sealed class ProbeStage(MethodRegistry registry) : IStageKind
{
    public const string FileName = "probe.json";
    public const string LinearRunDir = "linear-probe";   // the linear probe's training run (metrics, fitted head)

    public string Kind => "probe";
    public string Summary => "Linear and weighted-kNN probes of a frozen encoder (any checkpoint that gives features)";
    public IReadOnlyList<StageInputDecl> Inputs => [new("checkpoint", true, "a checkpoint of a kind that gives features")];

    public string MainOutput(string outputDir) => Path.Combine(outputDir, FileName);

    private static ProbeParams Bind(JsonObject given, string where)
    {
        var p = ParamSchema.Of<ProbeParams>().Bind(new ProbeParams(), given, where);
        return p with { Linear = p.Linear || !p.Knn, Knn = p.Knn || !p.Linear };
    }

    public JsonNode Resolve(JsonObject parameters, string where)
    {
        ProbeParams p = Bind(parameters, where) with { Checkpoint = "@", Threads = 0, Batch = 0, Out = null };
        return JsonSerializer.SerializeToNode(p, Json.Options)!;
    }

    public StageOutcome Run(StageRun run)
    {
        ProbeParams p = Bind(run.Params, $"stage '{run.Name}'") with { Checkpoint = run.Inputs["checkpoint"], Out = run.OutputDir };
        ProbeResult r = Run(p, run.Log, run.Cancel);
        string knn = r.Knn is { } k ? $"kNN {100 * k.Top1:F2}%" : "";
        string lin = r.Linear is { } l ? $"linear {100 * l.Top1:F2}%" : "";
        return new StageOutcome(false, JsonSerializer.SerializeToNode(r, Json.Options), $"{r.Method ?? r.Source}: " + string.Join(", ", new[] { lin, knn }.Where(x => x.Length > 0)));
    }

    public ProbeResult Run(ProbeParams p, IProgress<string>? log, CancellationToken cancel)
    {
        var clock = Stopwatch.StartNew();
        Validate(p);
        Denormals.Configure(p.Threads);

        IEncoder? encoder = null;
        string? ckptPath = null;
        try
        {
            if (p.Checkpoint is not null)
            {
                ckptPath = Gen.Pipeline.Onnx.OnnxModels.IsOnnxPath(p.Checkpoint) ? p.Checkpoint : Checkpoint.ResolvePath(p.Checkpoint);
                encoder = registry.Open<IEncoder>(ckptPath, "give image features");
            }
            string data = p.Data ?? (encoder is not null && !string.IsNullOrEmpty(encoder.TrainingData) ? encoder.TrainingData : "fashion-mnist");
            ImageSet train = DatasetCatalog.Load(DatasetCatalog.WithSplit(data, Split.Train), Split.Train, log);
            ImageSet test = DatasetCatalog.Load(DatasetCatalog.WithSplit(data, Split.Test), Split.Test, log);
            if (encoder is not null && train.Channels != encoder.Channels)
                throw new GenInputException($"'{train.Name}' has {train.Channels}-channel images but the encoder in '{ckptPath}' takes {encoder.Channels}-channel images; probe it on data like its training set ({encoder.TrainingData})");
            if (test.Channels != train.Channels)
                throw new GenInputException($"'{test.Name}' has {test.Channels}-channel images but '{train.Name}' has {train.Channels}; use one dataset");
            if (p.Knn && p.K > train.Count)
                throw new GenInputException($"--k {p.K} is larger than the training set ({train.Count} images); choose k ≤ {train.Count}");
            if (train.Labels.All(l => l < 0) || test.Labels.All(l => l < 0))
                throw new GenInputException($"probing needs labelled train and test images; '{data}' has none");

            if (p.RandomInit)
            {
                var ec = new EncoderConfig { Arch = p.Encoder, InChannels = train.Channels };
                var (mean, std) = train.ChannelStats();
                var config = PretrainConfig.For(PretrainMethodKind.Simclr, p.Encoder, train) with
                {
                    Encoder = ec, Mean = mean.Select(m => Math.Round(m, 4)).ToArray(), Std = std.Select(s => Math.Round(s, 4)).ToArray(),
                };
                using var g = new Generator(SplitMix.Mix(p.Seed, PretrainMethod.InitStream));
                encoder = new EncoderModel(ec.Create(g), config, null, "");
            }

            string layer = p.RawPixels ? "pixels" : p.Layer ?? encoder!.DefaultLayer;
            if (encoder is not null && !encoder.Layers.Contains(layer))
                throw new GenInputException($"--layer '{layer}' is not a layer of this encoder; use one of {string.Join(", ", encoder.Layers)}");
            Func<Tensor, Tensor> fn;
            if (p.RawPixels)
            {
                // The pixels the encoders see: normalised with the train set's channel mean and std (this
                // changes cosine kNN, not the z-scored linear probe).
                var (mean, std) = train.ChannelStats();
                fn = x => Augment.Normalize(x, mean, std).flatten(1);
            }
            else
            {
                var enc = encoder!;
                fn = x => enc.Features(x, layer);
            }

            var featClock = Stopwatch.StartNew();
            using Tensor trainX = Features.Extract(train, fn, p.Batch, cancel: cancel);
            using Tensor testX = Features.Extract(test, fn, p.Batch, cancel: cancel);
            double featSeconds = featClock.Elapsed.TotalSeconds;
            using Tensor trainY = Features.Labels(train);
            using Tensor testY = Features.Labels(test);
            int classes = Math.Max(train.ClassCount, (int)Math.Max(trainY.max().item<long>(), testY.max().item<long>()) + 1);

            string? outDir = p.Out ?? (ckptPath is not null ? Path.GetDirectoryName(Path.GetFullPath(ckptPath)) : null);
            ProbeLinear? linear = null;
            if (p.Linear)
            {
                var (x, y) = Labelled(trainX, trainY);
                using (x) using (y)
                {
                    var r = LinearProbe.Fit(x, y, testX, testY, classes, p.LinearOptions with { Seed = p.Seed }, cancel,
                                             outDir is null ? null : Path.Combine(outDir, LinearRunDir));
                    linear = new ProbeLinear(r.Top1, r.Top5, r.TrainTop1, r.Protocol, r.Epochs);
                }
            }
            ProbeKnn? knn = null, knnAlt = null;
            if (p.Knn)
            {
                var (x, y) = Labelled(trainX, trainY);
                using (x) using (y)
                {
                    var r = Probes.Knn.Evaluate(x, y, testX, testY, classes, Math.Min(p.K, (int)x.shape[0]), p.KnnT);
                    knn = new ProbeKnn(r.K, r.T, r.Top1, r.Top5);
                    var a = Probes.Knn.Evaluate(x, y, testX, testY, classes, Math.Min(Probes.Knn.AltK, (int)x.shape[0]), Probes.Knn.AltT);
                    knnAlt = new ProbeKnn(a.K, a.T, a.Top1, a.Top5);
                }
            }

            var prov = encoder?.Provenance ?? new Dictionary<string, string>();
            var source = p.RawPixels ? ProbeSource.RawPixels : p.RandomInit ? ProbeSource.RandomInit : ProbeSource.Checkpoint;
            var result = new ProbeResult
            {
                Source = source switch { ProbeSource.RawPixels => "raw-pixels", ProbeSource.RandomInit => "random-init", _ => "checkpoint" },
                Checkpoint = ckptPath,
                Method = prov.GetValueOrDefault("method"),
                Hallucinator = prov.TryGetValue("hallucinator", out string? h) ? h == "on" : null,
                Seed = long.TryParse(prov.GetValueOrDefault("seed"), out long s) ? s : p.RandomInit ? p.Seed : null,
                Step = ckptPath is null ? null : (encoder as IModel)?.Step,
                Encoder = p.RawPixels ? "none" : encoder!.Architecture,
                Layer = layer,
                FeatureDim = trainX.shape[1],
                Data = data,
                Linear = linear,
                Knn = knn,
                KnnAlt = knnAlt,
                FeatureSeconds = featSeconds,
                ElapsedSeconds = clock.Elapsed.TotalSeconds,
            };
            if (outDir is not null)
            {
                Directory.CreateDirectory(outDir);
                string file = Path.Combine(outDir, FileName);
                result = result with { Written = file };
                AtomicFile.WriteAllText(file, Json.Serialize(result));
            }
            return result;
        }
        finally
        {
            (encoder as IDisposable)?.Dispose();
        }
    }

    private static void Validate(ProbeParams p)
    {
        int sources = (p.Checkpoint is null ? 0 : 1) + (p.RandomInit ? 1 : 0) + (p.RawPixels ? 1 : 0);
        if (sources != 1)
            throw new GenInputException("give exactly one of: a checkpoint, --random-init or --raw-pixels");
        if (!p.Linear && !p.Knn) throw new GenInputException("nothing to do: give --linear, --knn or neither (both)");
        if (p.K < 1) throw new GenInputException($"--k must be positive, got {p.K}");
        if (!(p.KnnT > 0)) throw new GenInputException($"--knn-t must be positive, got {p.KnnT}");
        if (p.Batch <= 0) throw new GenInputException($"--batch must be positive, got {p.Batch}");
        if (p.RawPixels && p.Layer is not null) throw new GenInputException("--layer does not apply to --raw-pixels");
        p.LinearOptions.Validate();
    }

    private static (Tensor X, Tensor Y) Labelled(Tensor x, Tensor y)
    {
        using var scope = NewDisposeScope();
        Tensor keep = y.ge(0).nonzero().flatten();
        return (x.index_select(0, keep).MoveToOuterDisposeScope(), y.index_select(0, keep).MoveToOuterDisposeScope());
    }
}

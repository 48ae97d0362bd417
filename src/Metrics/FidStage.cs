// FID (or FD-FMNIST) between two inputs as a pipeline stage: inputs a and b are image folders (e.g. a
// sample stage's images), datasets, .npz statistics or generator checkpoints; the result goes to
// fid.json with the full extractor record (the same record `gen fid --json` prints).
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gen.Metrics.Features;
using Gen.Metrics.Fmnist;
using Gen.Pipeline;
using Gen.Pipeline.Methods;
using Gen.Pipeline.Stages;

namespace Gen.Metrics;

/// <summary>The options every metric stage shares: the extractor and how it runs.</summary>
public abstract record MetricStageParams
{
    [Param("inception or fmnist (default: inception when its weights are installed, else fmnist)")]
    public ExtractorKind? Extractor { get; init; }

    [Param("First seed when sampling a checkpoint input")]
    public long Seed { get; init; }

    [Param("float32 or bfloat16 feature extraction")]
    public FeatureDType Dtype { get; init; } = FeatureDType.Float32;

    [Param("Images per extraction batch")]
    public int Batch { get; init; } = FeatureRunner.DefaultBatch;

    [Param("libtorch intra-op threads (0 = default)")]
    public int Threads { get; init; }

    public ExtractorOptions ExtractorOptions() => new() { Kind = Extractor, DType = Dtype, Batch = Batch, Threads = Threads };

    public void CheckBatch(string where)
    {
        if (Batch <= 0) throw new GenInputException($"{where}: batch must be positive, got {Batch}");
    }

    /// <summary>What enters the stage key: batch size and threads change the result only by float rounding, so they stay out.</summary>
    public JsonNode Semantic()
    {
        MetricStageParams s = this with { Batch = 0, Threads = 0 };
        return JsonSerializer.SerializeToNode(s, s.GetType(), Json.Options)!;
    }
}

public sealed record FidStageParams : MetricStageParams
{
    [Param("Images to sample from a checkpoint input; for folders and datasets, use only the first N")]
    public int? N { get; init; }
}

public sealed class FidStage : IStageKind
{
    public const string FileName = "fid.json";

    public string Kind => "fid";
    public string Summary => "Fréchet distance between two image sources (FID with Inception, FD-FMNIST with the bundled network)";
    public IReadOnlyList<StageInputDecl> Inputs =>
        [new("a", true, "images: a folder, dataset, .npz statistics or generator checkpoint"), new("b", true, "the second input, same kinds")];

    public string MainOutput(string outputDir) => Path.Combine(outputDir, FileName);

    private static FidStageParams Bind(JsonObject given, string where) =>
        ParamSchema.Of<FidStageParams>().Bind(new FidStageParams(), given, where);

    public JsonNode Resolve(JsonObject parameters, string where)
    {
        FidStageParams p = Bind(parameters, where);
        p.CheckBatch(where);
        return p.Semantic();
    }

    public StageOutcome Run(StageRun run)
    {
        FidStageParams p = Bind(run.Params, $"stage '{run.Name}'");
        var jobs = new MetricJobs(p.ExtractorOptions(), null, run.Log, run.Cancel);
        FidResult r = jobs.Fid(run.Inputs["a"], run.Inputs["b"], p.N, p.N, p.Seed);
        JsonNode json = JsonSerializer.SerializeToNode(r, Json.Options)!;
        AtomicFile.WriteAllText(MainOutput(run.OutputDir), json.ToJsonString(Json.Options));
        return new StageOutcome(false, json, string.Create(CultureInfo.InvariantCulture, $"{r.Metric}: {r.Value:F4} (N = {r.A.N} vs {r.B.N})"));
    }
}

public sealed record EvalGenStageParams : MetricStageParams
{
    [Param("Comma-separated metrics: fid, kid, is, pr, dc")]
    public string Metrics { get; init; } = "fid,kid,pr,dc";

    [Param("Images of A: to sample from a checkpoint, or the first N of a folder or dataset")]
    public int? N { get; init; }

    [Param("Use only the first N reference images (default: all)")]
    public int? NRef { get; init; }

    [Param("Neighbours for precision/recall")]
    public int KPr { get; init; } = Manifold.DefaultKPr;

    [Param("Neighbours for density/coverage")]
    public int KDc { get; init; } = Manifold.DefaultKDc;

    [Param("Bootstrap replicates for 95% intervals (0 = off)")]
    public int Bootstrap { get; init; }

    [Param("Seed of the bootstrap resampling")]
    public long BootstrapSeed { get; init; }

    public EvalGenOptions Options() => new()
    {
        Metrics = EvalGenOptions.Parse(Metrics), KPr = KPr, KDc = KDc, Bootstrap = Bootstrap, BootstrapSeed = BootstrapSeed,
    };
}

/// <summary>`gen eval-gen` as a pipeline stage: every requested metric from one feature pass, into eval.json.</summary>
public sealed class EvalGenStage : IStageKind
{
    public const string FileName = "eval.json";

    public string Kind => "eval-gen";
    public string Summary => "FID, KID, IS, precision/recall and density/coverage of generated images against a reference, from one feature pass";
    public IReadOnlyList<StageInputDecl> Inputs =>
        [new("a", true, "generated images: a folder (a sample stage's images) or a generator checkpoint"), new("b", true, "reference images: a dataset or a folder")];

    public string MainOutput(string outputDir) => Path.Combine(outputDir, FileName);

    private static EvalGenStageParams Bind(JsonObject given, string where)
    {
        var p = ParamSchema.Of<EvalGenStageParams>().Bind(new EvalGenStageParams(), given, where);
        p.CheckBatch(where);
        p.Options().Validate();
        return p;
    }

    public JsonNode Resolve(JsonObject parameters, string where)
    {
        EvalGenStageParams p = Bind(parameters, where);
        return (p with { Metrics = string.Join(",", EvalGenOptions.Parse(p.Metrics).Order(StringComparer.Ordinal)) }).Semantic();
    }

    public StageOutcome Run(StageRun run)
    {
        EvalGenStageParams p = Bind(run.Params, $"stage '{run.Name}'");
        var jobs = new MetricJobs(p.ExtractorOptions(), null, run.Log, run.Cancel);
        EvalGenResult r = jobs.EvalGen(run.Inputs["a"], run.Inputs["b"], p.N, p.NRef, p.Seed, p.Options());
        JsonNode json = JsonSerializer.SerializeToNode(r, Json.Options)!;
        AtomicFile.WriteAllText(MainOutput(run.OutputDir), json.ToJsonString(Json.Options));
        return new StageOutcome(false, json, string.Join(", ", r.Values.Select(v => string.Create(CultureInfo.InvariantCulture, $"{v.Name} {v.Value:G4}"))));
    }
}

public static class MetricsStages
{
    /// <summary>The Metrics project's registration (one line in the CLI's composition root).</summary>
    public static MethodRegistry AddMetrics(this MethodRegistry registry) => registry.Add(new FidStage()).Add(new EvalGenStage())
        .AddReferenceClassifier("fashion-mnist", () => FmnistExtractor.BundledClassifier());
}

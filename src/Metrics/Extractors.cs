// Choosing and opening the feature extractor of a metric run, from the user's options. Default: the FID
// Inception when its weights are installed; otherwise the bundled Fashion-MNIST extractor, announced (never
// silent) and labelled FD-FMNIST in every result.
using Gen.Metrics.Features;
using Gen.Metrics.Fmnist;
using Gen.Pipeline.Methods;
using Gen.Pipeline.Onnx;
using Gen.Metrics.Inception;
using Gen.Pipeline;
using static TorchSharp.torch;

namespace Gen.Metrics;

public sealed record ExtractorOptions
{
    public ExtractorKind? Kind { get; init; }            // null: inception if its weights exist, else fmnist
    public int? Dims { get; init; }                      // inception only: 64, 192, 768, 2048 (default 2048)
    public Preprocessing? Preprocess { get; init; }      // null: the metric's reference tool
    public string? Weights { get; init; }                // inception weights file (default: cache / $GEN_INCEPTION_WEIGHTS)
    public string? WeightsSha256 { get; init; }          // accept a non-standard weights file with this hash
    public string? FmnistWeights { get; init; }          // a retrained Fashion-MNIST extractor instead of the bundled one
    public FeatureDType DType { get; init; } = FeatureDType.Float32;
    public int Batch { get; init; } = FeatureRunner.DefaultBatch;
    public int Threads { get; init; }                    // 0: libtorch's default

    public void Validate()
    {
        if (Batch <= 0) throw new GenInputException($"--batch must be positive, got {Batch}");
        if (Threads < 0) throw new GenInputException($"--threads must be zero (default) or positive, got {Threads}");
        if (Kind == ExtractorKind.Fmnist && Dims is not null && Dims != 128)
            throw new GenInputException($"--dims applies to the Inception extractor; the fmnist extractor has 128-d features (got --dims {Dims})");
        if (Dims is not null) InceptionExtractor.ForDims(Dims.Value);
    }
}

public static class Extractors
{
    public static ExtractorKind Resolve(ExtractorOptions o, IProgress<string>? log)
    {
        if (o.Kind is { } k) return k;
        if (InceptionWeights.Locate(o.Weights) is not null) return ExtractorKind.Inception;
        log?.Report($"Inception weights not installed ({InceptionWeights.CachePath}); using --extractor fmnist: results are FD-FMNIST, not FID ('gen weights fetch inception' installs them)");
        return ExtractorKind.Fmnist;
    }

    /// <summary>Opens the extractor for one metric layer; <paramref name="defaultPreprocessing"/> is the metric's reference tool.</summary>
    public static IFeatureExtractor Open(ExtractorOptions o, ExtractorKind kind, InceptionOutput? layer, Preprocessing defaultPreprocessing,
                                         IReadOnlyList<InceptionOutput>? extras = null)
    {
        o.Validate();
        Denormals.Configure(o.Threads);
        if (kind == ExtractorKind.Fmnist)
        {
            if (layer is InceptionOutput.LogitsUnbiased or InceptionOutput.Logits)
                throw new GenInputException("the Inception Score needs the Inception's class logits; run it with the Inception extractor ('gen weights fetch inception')");
            FmnistExtractor fmnist = o.FmnistWeights is null ? FmnistExtractor.Bundled() : FmnistExtractor.FromFile(o.FmnistWeights, null);
            var inference = MethodRegistry.Current?.Inference ?? InferenceSettings.Default;
            if (!inference.UsesOnnx(FmnistExtractor.OnnxRoleName)) return fmnist;
            using (fmnist) return fmnist.OnOnnx(inference);
        }
        InceptionOutput output = layer ?? InceptionExtractor.ForDims(o.Dims ?? 2048);
        var inceptionEngine = MethodRegistry.Current?.Inference ?? InferenceSettings.Default;
        bool onOnnx = inceptionEngine.UsesOnnx(InceptionExtractor.OnnxRoleName);
        if (onOnnx && o.DType == FeatureDType.BFloat16)
        {
            if (inceptionEngine.RequiresOnnx)
                throw new GenInputException("--dtype bf16 runs on TorchSharp; the Inception's ONNX graph is float32 (drop --dtype bf16, or use --engine torch)");
            onOnnx = false;   // the automatic choice keeps bf16 on TorchSharp
        }
        var inception = InceptionExtractor.Open(o.Weights, o.WeightsSha256, output, o.Preprocess ?? defaultPreprocessing, o.DType, extras);
        if (!onOnnx) return inception;
        using (inception) return inception.OnOnnx(inceptionEngine);
    }
}

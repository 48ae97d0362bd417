// The FID Inception as a feature extractor: preprocessing of the chosen tool, one output layer, fp32 or bf16.
// bf16 (AVX512-BF16 on this CPU) folds each BatchNorm into its convolution and casts the input explicitly
// (TorchSharp 0.107 has no autocast); pooling and fc run in fp32. Its effect on FID is measured in
// bench/metrics, not assumed.
using Gen.Metrics.Inception;
using TorchSharp;
using static TorchSharp.torch;

namespace Gen.Metrics.Features;

public sealed class InceptionExtractor : IFeatureExtractor
{
    private readonly FidInceptionV3 _net;
    private readonly InceptionOutput _output;
    private readonly Preprocessing _preprocessing;
    private readonly ScalarType _dtype;
    private readonly InceptionOutput[] _extras;

    public InceptionExtractor(FidInceptionV3 net, InceptionWeightsInfo weights, InceptionOutput output,
                              Preprocessing preprocessing, FeatureDType dtype = FeatureDType.Float32, IReadOnlyList<InceptionOutput>? extras = null)
    {
        _net = net;
        _output = output;
        _extras = extras?.Where(e => e != output).Distinct().ToArray() ?? [];
        _preprocessing = preprocessing;
        _dtype = dtype == FeatureDType.BFloat16 ? ScalarType.BFloat16 : ScalarType.Float32;
        _net.PrepareInference(_dtype);
        Info = new ExtractorInfo
        {
            Kind = ExtractorKind.Inception,
            Network = "pytorch-fid Inception v3 (TF inception-2015-12-05)",
            Layer = LayerName(output),
            Dims = FidInceptionV3.Dims(output),
            WeightsSha256 = weights.Sha256,
            StandardWeights = weights.Standard,
            Preprocessing = Preprocess.Describe(preprocessing),
            DType = dtype,
        };
    }

    /// <summary>Loads the weights (hash-checked) and builds the extractor.</summary>
    public static InceptionExtractor Open(string? weightsPath, string? expectedSha256, InceptionOutput output,
                                          Preprocessing preprocessing, FeatureDType dtype = FeatureDType.Float32, IReadOnlyList<InceptionOutput>? extras = null)
    {
        string path = InceptionWeights.Locate(weightsPath) ?? throw InceptionWeights.Missing();
        var (net, info) = InceptionWeights.Load(path, expectedSha256);
        return new InceptionExtractor(net, info, output, preprocessing, dtype, extras);
    }

    public static string LayerName(InceptionOutput o) => o switch
    {
        InceptionOutput.Pool64 => "pool_64",
        InceptionOutput.Pool192 => "pool_192",
        InceptionOutput.Pool768 => "pool_768",
        InceptionOutput.Pool2048 => "pool3",
        InceptionOutput.LogitsUnbiased => "logits_unbiased",
        _ => "logits",
    };

    /// <summary>pytorch-fid's --dims: 64, 192, 768 or 2048.</summary>
    public static InceptionOutput ForDims(int dims) => dims switch
    {
        64 => InceptionOutput.Pool64,
        192 => InceptionOutput.Pool192,
        768 => InceptionOutput.Pool768,
        2048 => InceptionOutput.Pool2048,
        _ => throw new Pipeline.GenInputException($"--dims takes 64, 192, 768 or 2048 (pytorch-fid's blocks), got {dims}"),
    };

    public ExtractorInfo Info { get; }

    public Tensor Features(Tensor images)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        Tensor x = Preprocess.ForInception(images, _preprocessing);
        if (_dtype != ScalarType.Float32) x = x.to_type(_dtype);
        Tensor f = _net.Run(x, [_output])[_output];
        return f.to_type(ScalarType.Float32).MoveToOuterDisposeScope();
    }

    public IReadOnlyList<string> Extras => _extras.Select(LayerName).ToArray();

    public Tensor[] FeaturesAndExtras(Tensor images)
    {
        if (_extras.Length == 0) return [Features(images)];
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        Tensor x = Preprocess.ForInception(images, _preprocessing);
        if (_dtype != ScalarType.Float32) x = x.to_type(_dtype);
        var outputs = _net.Run(x, [_output, .. _extras]);
        return [.. new[] { _output }.Concat(_extras).Select(o => outputs[o].to_type(ScalarType.Float32).MoveToOuterDisposeScope())];
    }

    public void Dispose() => _net.Dispose();
}

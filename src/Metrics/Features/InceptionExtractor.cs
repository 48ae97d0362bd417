// The FID Inception as a feature extractor: preprocessing of the chosen tool, one output layer, fp32 or bf16.
// bf16 (AVX512-BF16 on this CPU) folds each BatchNorm into its convolution and casts the input explicitly
// (TorchSharp 0.107 has no autocast); pooling and fc run in fp32. Its effect on FID is measured in
// bench/metrics, not assumed.
using Gen.Metrics.Inception;
using Gen.Pipeline.Onnx;
using TorchSharp;
using static TorchSharp.torch;

namespace Gen.Metrics.Features;

public sealed class InceptionExtractor : IFeatureExtractor, IOnnxExportable
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

    // --- Export (docs/deploy.md §7): the preprocessed B×3×299×299 input → the chosen layer, then the extras. ---

    public const string OnnxRoleName = "inception-features";

    public string OnnxRole => OnnxRoleName;

    private InceptionOutput[] Outputs => [_output, .. _extras];

    public void WriteOnnx(OnnxGraph g)
    {
        if (_dtype != ScalarType.Float32) throw new Pipeline.GenInputException("--dtype bf16 is TorchSharp-only; the ONNX graph of the Inception is float32 (drop --dtype bf16)");
        string x = g.Input(OnnxModels.InputName, 3, 299, 299);
        var values = _net.WriteOnnx(g, x, Outputs);
        foreach (var o in Outputs) g.Output(g.Node("Identity", [values[o]], LayerName(o)), FidInceptionV3.Dims(o));
    }

    public IReadOnlyDictionary<string, Tensor> ParityInputs(int count, Generator g) =>
        new Dictionary<string, Tensor> { [OnnxModels.InputName] = rand([count, 3, 299, 299], generator: g).mul(2).sub(1) };

    public Tensor Reference(IReadOnlyDictionary<string, Tensor> inputs) => _net.Run(inputs[OnnxModels.InputName], [_output])[_output];

    public OnnxTolerance Tolerance => OnnxTolerance.Classifier;

    public IReadOnlyDictionary<string, string> OnnxMetadata => new Dictionary<string, string> { ["gen.preprocessing"] = Info.Preprocessing };

    public OnnxSource Source => new("inception", 0, Info.Network, Info.StandardWeights ? "pt_inception-2015-12-05" : "inception weights", Info.WeightsSha256);

    /// <summary>This extractor with its network on ONNX Runtime; the preprocessing stays in C#.</summary>
    public IFeatureExtractor OnOnnx(InferenceSettings inference)
    {
        var session = OnnxModels.InMemory(this, Source, inference);
        return new OnnxInceptionExtractor(session, Info with { Engine = session.Engine }, _preprocessing, _extras.Select(LayerName).ToArray());
    }

    public void Dispose() => _net.Dispose();
}

/// <summary>The FID Inception's network on ONNX Runtime: the same preprocessing in C#, the chosen layer and
/// the extras from one pass of the graph (docs/deploy.md §7).</summary>
public sealed class OnnxInceptionExtractor(OnnxSession session, ExtractorInfo info, Preprocessing preprocessing, IReadOnlyList<string> extras) : IFeatureExtractor
{
    public ExtractorInfo Info { get; } = info;

    public IReadOnlyList<string> Extras => extras;

    public Tensor Features(Tensor images) => FeaturesAndExtras(images)[0];

    public Tensor[] FeaturesAndExtras(Tensor images)
    {
        using var scope = NewDisposeScope();
        Tensor x = Preprocess.ForInception(images, preprocessing);
        Tensor[] outputs = OnnxModels.RunAll(session.Session, new Dictionary<string, Tensor> { [OnnxModels.InputName] = x });
        foreach (var t in outputs) t.MoveToOuterDisposeScope();
        return outputs;
    }

    public void Dispose() => session.Dispose();
}

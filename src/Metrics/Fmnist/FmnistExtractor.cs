// The bundled Fashion-MNIST extractor (`--extractor fmnist`): FmnistNet's 128-d pooled features. Its weights
// and the Fashion-MNIST test-split statistics ship in assets/metrics/ (embedded in Gen.Metrics.dll), pinned by
// SHA-256 below, so `gen fid samples/ fashion-mnist:test --extractor fmnist` works offline right after clone.
// Input: grey 28×28 uint8. Colour images become grey with PIL's convert('L') weights (ITU-R 601-2 luma);
// other sizes are resized bilinearly (align_corners=False) to 28×28, and the runner says so.
using System.Reflection;
using System.Security.Cryptography;
using Gen.Metrics.Features;
using Gen.Metrics.Stats;
using Gen.Pipeline;
using Gen.Pipeline.Checkpoints;
using Gen.Pipeline.Onnx;
using static TorchSharp.torch;

namespace Gen.Metrics.Fmnist;

public sealed class FmnistExtractor : IFeatureExtractor, IOnnxImageModel
{
    public const string WeightsFile = "fmnist_extractor.safetensors";
    public const string TestStatsFile = "fashion-mnist-test.fmnist.npz";

    // SHA-256 of assets/metrics/fmnist_extractor.safetensors and of its test-split statistics
    // (assets/metrics/fmnist_extractor.json records how both were made).
    public const string BundledSha256 = "ea906a1c968c3c6b4c1822fc17636c0bda9ba13d89fd55bf802ce3a7cb06a4c7";
    public const string BundledStatsSha256 = "8ee4693851c1e454660b75322c52a3325b761c0d98e07c72a9a5c6cf3c537224";

    private readonly FmnistNet _net;

    private FmnistExtractor(FmnistNet net, string sha256, bool bundled)
    {
        _net = net;
        _net.eval();
        Info = new ExtractorInfo
        {
            Kind = ExtractorKind.Fmnist,
            Network = "Gen Fashion-MNIST CNN (conv 32-64-128, GAP)",
            Layer = "gap128",
            Dims = net.Config.FeatureDim,
            WeightsSha256 = sha256,
            StandardWeights = bundled,
            Preprocessing = "fmnist: grey (PIL L weights if colour), bilinear to 28×28 if needed, /255, (x−0.2860)/0.3530",
        };
    }

    public ExtractorInfo Info { get; }
    public FmnistNet Network => _net;

    /// <summary>The extractor shipped with Gen (hash-checked).</summary>
    public static FmnistExtractor Bundled()
    {
        byte[] bytes = Resource(WeightsFile, BundledSha256);
        return FromBytes(bytes, "bundled " + WeightsFile, BundledSha256, bundled: true);
    }

    /// <summary>The bundled network as a Fashion-MNIST classifier (the judge of generated images'
    /// classes, e.g. an lzn monitor's sample accuracy); the caller disposes it.</summary>
    public static FmnistNet BundledClassifier() => Bundled().Network;

    /// <summary>The Fashion-MNIST test-split statistics of the bundled extractor.</summary>
    public static GaussianStats BundledTestStats()
    {
        byte[] bytes = Resource(TestStatsFile, BundledStatsSha256);
        string tmp = Path.Combine(Path.GetTempPath(), $"gen-{Environment.ProcessId}-{Guid.NewGuid():N}.npz");
        try
        {
            File.WriteAllBytes(tmp, bytes);
            return GaussianStats.Load(tmp) with { Count = 10_000 };
        }
        finally { File.Delete(tmp); }
    }

    public static bool HasBundled => BundledSha256.Length == 64 && typeof(FmnistExtractor).Assembly.GetManifestResourceInfo(WeightsFile) is not null;

    /// <summary>An extractor file (e.g. a retrained one); <paramref name="expectedSha256"/> null accepts any hash and records it.</summary>
    public static FmnistExtractor FromFile(string path, string? expectedSha256)
    {
        if (!File.Exists(path)) throw new GenInputException($"extractor weights '{path}' do not exist; check the path");
        byte[] bytes = File.ReadAllBytes(path);
        string sha = Convert.ToHexStringLower(SHA256.HashData(bytes));
        if (expectedSha256 is not null && sha != expectedSha256.ToLowerInvariant())
            throw new GenInputException($"extractor weights '{path}' have SHA-256 {sha}, expected {expectedSha256}; the file was changed or damaged");
        return FromBytes(bytes, path, sha, bundled: sha == BundledSha256);
    }

    private static FmnistExtractor FromBytes(byte[] bytes, string name, string sha, bool bundled)
    {
        SafeTensorsFile file = SafeTensors.Read(new MemoryStream(bytes, writable: false), name);
        CheckpointInfo info = Checkpoint.Info(file);
        if (info.Kind != FmnistExtractorMethod.KindName)
            throw new GenInputException($"'{name}' holds a '{info.Kind}' model, not a Fashion-MNIST extractor; pass a file written by 'gen metrics train-extractor'");
        var config = Json.Deserialize<FmnistNetConfig>(info.ConfigJson, $"the config in '{name}'");
        var net = new FmnistNet(config);
        Checkpoint.LoadInto(net, file);
        return new FmnistExtractor(net, sha, bundled);
    }

    private static byte[] Resource(string name, string sha)
    {
        using Stream? s = typeof(FmnistExtractor).Assembly.GetManifestResourceStream(name);
        if (s is null || sha.Length != 64)
            throw new GenInputException($"this build of Gen has no bundled Fashion-MNIST extractor (assets/metrics/{name}); rebuild from a full clone, or train one with 'gen metrics train-extractor'");
        using var ms = new MemoryStream();
        s.CopyTo(ms);
        byte[] bytes = ms.ToArray();
        string actual = Convert.ToHexStringLower(SHA256.HashData(bytes));
        if (actual != sha)
            throw new GenInputException($"the bundled {name} has SHA-256 {actual}, not the pinned {sha}; the build picked up a changed assets/metrics file");
        return bytes;
    }

    public string? Adapts(int channels, int height, int width) => FmnistExtractorAdapts.Describe(channels, height, width);

    public Tensor Features(Tensor images)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        return Reference(Prepare(images)).MoveToOuterDisposeScope();
    }

    /// <summary>uint8 grey or RGB images of any size → float B×1×28×28 in [0,1] (the C# half of the
    /// extractor on either engine).</summary>
    public static Tensor Prepare(Tensor images)
    {
        if (images.dim() != 4 || images.shape[1] is not (1 or 3))
            throw new GenInputException($"images must be grey or RGB, got a batch of shape [{string.Join(", ", images.shape)}]");
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        Tensor x = images.to_type(ScalarType.Float32);
        if (x.shape[1] == 3)
        {
            // PIL Image.convert('L'): L = R·299/1000 + G·587/1000 + B·114/1000.
            Tensor w = tensor(new float[] { 0.299f, 0.587f, 0.114f }).view(1, 3, 1, 1);
            x = (x * w).sum(1, keepdim: true);
        }
        x = x.div(255.0);
        if (x.shape[2] != 28 || x.shape[3] != 28)
            x = nn.functional.interpolate(x, [28, 28], mode: InterpolationMode.Bilinear, align_corners: false);
        return x.MoveToOuterDisposeScope();
    }

    // --- Export (docs/deploy.md §7): prepared images [0,1] → (x − mean)/std → the 128-d features. ---

    public const string OnnxRoleName = "fmnist-features";
    public const string FeaturesOutput = "features";

    public string OnnxRole => OnnxRoleName;
    public int Channels => 1;
    public int Height => 28;
    public int Width => 28;

    public void WriteOnnx(OnnxGraph g)
    {
        string x = g.Input(OnnxModels.InputName, 1, 28, 28);
        string normed = g.Normalize(x, [_net.Config.Mean], [_net.Config.Std]);
        g.Output(g.Node("Identity", [_net.WriteFeaturesOnnx(g, normed)], FeaturesOutput), Info.Dims);
    }

    public Tensor Reference(Tensor images01) => _net.Features(_net.Normalize(images01));

    /// <summary>Where this extractor's weights came from, for an exported graph's metadata.</summary>
    public OnnxSource Source => new(FmnistExtractorMethod.KindName, 0, Info.Network, Info.StandardWeights ? WeightsFile : "fmnist extractor", Info.WeightsSha256);

    /// <summary>This extractor with its network on ONNX Runtime (the preprocessing stays in C#).</summary>
    public IFeatureExtractor OnOnnx(InferenceSettings inference)
    {
        var session = OnnxModels.InMemory(this, Source, inference);
        return new OnnxFmnistExtractor(session, Info with { Engine = session.Engine });
    }

    public void Dispose() => _net.Dispose();
}

/// <summary>The Fashion-MNIST extractor's network on ONNX Runtime. Its identity (ExtractorInfo but for
/// Engine) is the torch extractor's: the same weights and preprocessing give the same features to
/// float32 rounding, so statistics from either engine compare (docs/deploy.md §7).</summary>
public sealed class OnnxFmnistExtractor(OnnxSession session, ExtractorInfo info) : IFeatureExtractor
{
    public ExtractorInfo Info { get; } = info;

    public Tensor Features(Tensor images)
    {
        using var scope = NewDisposeScope();
        return session.Run(new Dictionary<string, Tensor> { [OnnxModels.InputName] = FmnistExtractor.Prepare(images) }).MoveToOuterDisposeScope();
    }

    public string? Adapts(int channels, int height, int width) => FmnistExtractorAdapts.Describe(channels, height, width);

    public void Dispose() => session.Dispose();
}

internal static class FmnistExtractorAdapts
{
    public static string? Describe(int channels, int height, int width)
    {
        var notes = new List<string>();
        if (channels == 3) notes.Add("colour images converted to grey (PIL 'L' weights)");
        if (height != 28 || width != 28) notes.Add($"{width}×{height} images resized bilinearly to 28×28");
        return notes.Count == 0 ? null : string.Join("; ", notes);
    }
}

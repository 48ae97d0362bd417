// The FID Inception against the independent reference: pytorch-fid's architecture built by
// make_inception_fixtures.py with Debian's torch 1.13 / torchvision 0.14, same formula weights, same images.
using System.Text.Json;
using Gen.Metrics.Features;
using Gen.Metrics.Inception;
using Gen.Metrics.Stats;
using static TorchSharp.torch;

namespace Gen.Metrics.Tests;

public sealed class InceptionTests
{
    // Features may differ by fp32 rounding in other kernel orders (torch-fidelity's own TF↔PT budget is 1e-4
    // relative, its precision.md): max|Δ| ≤ 1e-4·max|f| + 1e-5 (docs/methods/metrics.md §7.1).
    private static void AssertFeatures(Tensor expected, Tensor actual, string what)
    {
        Assert.Equal(expected.shape, actual.shape);
        double scale = expected.abs().max().item<float>();
        double worst = (expected.to_type(ScalarType.Float64) - actual.to_type(ScalarType.Float64)).abs().max().item<double>();
        Assert.True(worst <= 1e-4 * scale + 1e-5, $"{what}: max |Δ| = {worst:G3} with max |f| = {scale:G3}");
    }

    private static Tensor Images(string set, int n)
    {
        byte[] px = set == "A" ? Formula.Images(1, n, 3, 32, 32) : Formula.Images(2, n, 1, 28, 28);
        return set == "A" ? tensor(px, [n, 3, 32, 32], ScalarType.Byte) : tensor(px, [n, 1, 28, 28], ScalarType.Byte);
    }

    [Fact]
    public void StateDict_HasPytorchFidKeysAndShapes()
    {
        using var net = new FidInceptionV3();
        var expected = JsonDocument.Parse(File.ReadAllText(Fixtures.Path("inception_state_dict.json"))).RootElement
            .EnumerateObject().ToDictionary(p => p.Name, p => p.Value.EnumerateArray().Select(x => x.GetInt64()).ToArray());
        var actual = net.state_dict();
        Assert.Equal(FidInceptionV3.StateDictEntries, expected.Count);
        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), actual.Keys.Order(StringComparer.Ordinal));
        foreach (var (k, shape) in expected) Assert.Equal(shape, actual[k].shape);
        long numbers = actual.Where(kv => !kv.Key.EndsWith("num_batches_tracked", StringComparison.Ordinal)).Sum(kv => kv.Value.numel());
        Assert.Equal(23_885_392, numbers);   // docs/methods/metrics.md §2 (the 94 int64 counters not counted)
    }

    [Fact]
    public void Blocks0And1_MatchReference_ForBothPreprocessings()
    {
        var reference = Formula.Reference();
        using var net = Formula.Inception();
        using var _ = no_grad();
        foreach (string set in new[] { "A", "B" })
        {
            using var scope = NewDisposeScope();
            Tensor u8 = Images(set, 8);
            var outs = net.Run(Preprocess.ForInception(u8, Preprocessing.PytorchFid), [InceptionOutput.Pool64, InceptionOutput.Pool192]);
            AssertFeatures(reference[$"{set}.pool64"], outs[InceptionOutput.Pool64], $"{set}.pool64");
            AssertFeatures(reference[$"{set}.pool192"], outs[InceptionOutput.Pool192], $"{set}.pool192");
            var tf = net.Run(Preprocess.ForInception(u8, Preprocessing.TorchFidelity), [InceptionOutput.Pool64]);
            AssertFeatures(reference[$"{set}.tf_pool64"], tf[InceptionOutput.Pool64], $"{set}.tf_pool64");
        }
    }

    [Fact]
    public void FullNetwork_MatchesReference_Pool768Pool2048AndUnbiasedLogits()
    {
        var reference = Formula.Reference();
        using var net = Formula.Inception();
        using var _ = no_grad();
        foreach (string set in new[] { "A", "B" })
        {
            using var scope = NewDisposeScope();
            var outs = net.Run(Preprocess.ForInception(Images(set, 3), Preprocessing.PytorchFid),
                               [InceptionOutput.Pool768, InceptionOutput.Pool2048, InceptionOutput.LogitsUnbiased, InceptionOutput.Logits]);
            AssertFeatures(reference[$"{set}.pool768"], outs[InceptionOutput.Pool768], $"{set}.pool768");
            AssertFeatures(reference[$"{set}.pool2048"], outs[InceptionOutput.Pool2048], $"{set}.pool2048");
            AssertFeatures(reference[$"{set}.logits_unbiased"], outs[InceptionOutput.LogitsUnbiased], $"{set}.logits_unbiased");
            // logits = unbiased + fc.bias: the bias is really left out of the IS layer.
            Tensor bias = outs[InceptionOutput.Logits] - outs[InceptionOutput.LogitsUnbiased];
            Tensor fcBias = net.state_dict()["fc.bias"];
            Assert.True((bias - fcBias.unsqueeze(0)).abs().max().item<float>() < 1e-5f);
        }
    }

    [Fact]
    public void Bf16_FoldedBatchNorm_StaysCloseToTheFp32Reference()
    {
        // bf16 inference folds each BatchNorm into its convolution (weights rounded once) and pools in fp32.
        // bf16 keeps 8 significant bits (2^-8 ≈ 0.4 % per rounding); through ~50 layers the pool3 features stay
        // within a few percent of the fp32 reference. The bound also catches a wrong fold (a missing scale or
        // shift is off by ~100 %). pool3 is fp32 and the logits come from the fp32 fc.
        var reference = Formula.Reference();
        using var net = Formula.Inception();
        net.PrepareInference(ScalarType.BFloat16);
        using var _ = no_grad();
        foreach (string set in new[] { "A", "B" })
        {
            using var scope = NewDisposeScope();
            Tensor x = Preprocess.ForInception(Images(set, 3), Preprocessing.PytorchFid).to_type(ScalarType.BFloat16);
            var outs = net.Run(x, [InceptionOutput.Pool768, InceptionOutput.Pool2048, InceptionOutput.LogitsUnbiased]);
            foreach (var (o, key) in new[] { (InceptionOutput.Pool768, "pool768"), (InceptionOutput.Pool2048, "pool2048"), (InceptionOutput.LogitsUnbiased, "logits_unbiased") })
            {
                Tensor expected = reference[$"{set}.{key}"].to_type(ScalarType.Float64), actual = outs[o].to_type(ScalarType.Float64);
                Assert.Equal(ScalarType.Float32, outs[o].dtype);
                double scale = expected.abs().max().item<double>();
                double worst = (expected - actual).abs().max().item<double>() / scale;
                double mean = ((expected - actual).abs().mean() / expected.abs().mean()).item<double>();
                Assert.True(worst < 0.03 && mean < 0.01, $"{set}.{key} in bf16: max |Δ|/max|f| = {worst:G3}, mean |Δ|/mean|f| = {mean:G3}");
            }
        }
    }

    [Fact]
    public void Bf16_ChannelsLast_AgreesWithTheNchwLayout_AtTheDefaultBatch()
    {
        // The bf16 default runs NHWC (a stride trick libtorch honours; its kernels then differ by shape). The
        // fixture check above sees 3 images; here a full batch of 50 goes through both layouts, which differ
        // only by bf16 summation order (measured 0.1-0.5 %). A layout bug shows as tens of percent (it does for
        // float32 NHWC 1×1 convolutions in this libtorch, which is why float32 stays NCHW).
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        Tensor x = Preprocess.ForInception(Images("A", 50), Preprocessing.PytorchFid).to_type(ScalarType.BFloat16);
        Tensor Pool3(bool channelsLast)
        {
            using var net = Formula.Inception();
            net.PrepareInference(ScalarType.BFloat16, channelsLast);
            Assert.Equal(channelsLast, net.ChannelsLast);
            return net.Run(x, [InceptionOutput.Pool2048])[InceptionOutput.Pool2048].to_type(ScalarType.Float64);
        }
        Tensor nchw = Pool3(false), nhwc = Pool3(true);
        double worst = ((nhwc - nchw).abs().max() / nchw.abs().max()).item<double>();
        Assert.True(worst < 0.02, $"pool3 NHWC vs NCHW in bf16 at batch 50: max |Δ|/max|f| = {worst:G3}");
    }

    [Fact]
    public void EndToEnd_Fid64_OnFormulaImages_MatchesPytorchFidScipy()
    {
        // 128 RGB 32×32 vs 128 grey 28×28 images through the real extractor path (uint8 batches of 50,
        // preprocessing, block 0, streamed float64 statistics), FID against scipy's sqrtm: rel ≤ 1e-4 (docs/methods/metrics.md §7.1).
        var reference = Formula.Reference();
        var weights = new InceptionWeightsInfo("formula", "formula", WeightsFormat.SafeTensors, false);
        using var extractor = new InceptionExtractor(Formula.Inception(), weights, InceptionOutput.Pool64, Preprocessing.PytorchFid);
        var stats = new Dictionary<string, GaussianStats>();
        int n = (int)Fixtures.Number("inception", "n");
        foreach (string set in new[] { "A", "B" })
        {
            var (c, size) = set == "A" ? (3, 32) : (1, 28);
            var images = new Gen.Pipeline.Data.ImageSet(set, set == "A" ? Formula.Images(1, n, 3, 32, 32) : Formula.Images(2, n, 1, 28, 28),
                                                        new int[n], c, size, size, [], "formula");
            stats[set] = FeatureRunner.Stats(extractor, new Sources.ImageSetSource(images), 50);
            double[] mu = reference[$"{set}.mu64"].data<double>().ToArray();
            double worst = mu.Zip(stats[set].Mu).Max(p => Math.Abs(p.First - p.Second));
            Assert.True(worst < 1e-5, $"{set} mu64: max |Δ| {worst:G3}");
            double trace = Enumerable.Range(0, 64).Sum(i => stats[set].Sigma[i * 64 + i]);
            Fixtures.AssertRel(Fixtures.Number("inception", $"{set}.trace_sigma64"), trace, 1e-3, $"{set} tr Σ64");
        }
        FrechetResult fid = Frechet.Distance(stats["A"], stats["B"]);
        Fixtures.AssertRel(Fixtures.Number("inception", "fid64"), fid.Distance, 1e-4, "FID64");
        Assert.False(fid.EpsFallback);
    }
}

/// <summary>The FID Inception's graph (docs/deploy.md §7) against TorchSharp, with the fixture-formula weights:
/// pool3 and the unbiased logits of IS from one ONNX pass, and the preprocessing shared by both engines.</summary>
public sealed class InceptionOnnxTests
{
    [Fact]
    public void Graph_MatchesTorchSharp_Pool3AndLogits()
    {
        using var tmp = new TempDir();
        var weights = new Gen.Metrics.Inception.InceptionWeightsInfo("formula", new string('0', 64), Gen.Metrics.Inception.WeightsFormat.SafeTensors, false);
        using var torch = new InceptionExtractor(Formula.Inception(), weights, InceptionOutput.Pool2048, Preprocessing.TorchFidelity, extras: [InceptionOutput.LogitsUnbiased]);
        var rep = Gen.Pipeline.Onnx.OnnxModels.Export(torch, torch.Source, tmp.File("inception.onnx"), parityInputs: 4);
        Assert.True(rep.ParityOk, $"relative {rep.MaxRelativeError:G3}");

        var model = Gen.Pipeline.Onnx.Proto.ModelProto.Parser.ParseFrom(File.ReadAllBytes(tmp.File("inception.onnx")));
        Assert.Equal(["pool3", "logits_unbiased"], model.Graph.Output.Select(o => o.Name));
        Assert.DoesNotContain(model.Graph.Node, n => n.OpType is "BatchNormalization");

        using var onnx = torch.OnOnnx(new Gen.Pipeline.Onnx.InferenceSettings("onnx", "cpu"));
        Assert.Equal(torch.Info with { Engine = "onnx cpu" }, onnx.Info);
        Assert.Equal(torch.Extras, onnx.Extras);
        using var scope = NewDisposeScope();
        Tensor u8 = tensor(Formula.Images(7, 3, 3, 32, 32), [3, 3, 32, 32], ScalarType.Byte);
        Tensor[] a = torch.FeaturesAndExtras(u8), b = onnx.FeaturesAndExtras(u8);
        Assert.Equal(2, b.Length);
        for (int i = 0; i < 2; i++)
        {
            double rel = b[i].sub(a[i]).abs().max().item<float>() / a[i].abs().max().item<float>();
            Assert.True(rel <= 1e-5, $"output {i}: relative {rel:G3}");
        }
    }
}

using System.Security.Cryptography;
using Gen.Pipeline;
using Gen.Pipeline.Checkpoints;
using Gen.Pipeline.Classifier;
using Gen.Pipeline.Data;
using Gen.Pipeline.Imaging;
using Gen.Pipeline.Methods;
using Gen.Pipeline.Onnx;
using Gen.Representation.Detection;
using SkiaSharp;
using TorchSharp;
using static TorchSharp.torch;

namespace Gen.Representation.Tests.Detection;

public sealed class DetectionUnitTests
{
    private static DetectorNet Net(string arch = DetectorConfig.Cifake, ulong seed = 7, int size = 28, int channels = 1)
    {
        using var g = new Generator(seed);
        var net = new DetectorNet(DetectorConfig.For(arch, channels, size, "test"), g);
        net.eval();
        return net;
    }

    [Fact]
    public void Metrics_HandMadeConfusion()
    {
        // TP 3, FP 1, FN 2, TN 4.
        bool[] fake = [true, true, true, false, true, true, false, false, false, false];
        double[] p = [0.9, 0.8, 0.7, 0.6, 0.4, 0.1, 0.3, 0.2, 0.1, 0.0];
        var r = DetectionMetrics.Report(fake, p);
        Assert.Equal((3, 1, 2, 4), (r.TruePositive, r.FalsePositive, r.FalseNegative, r.TrueNegative));
        Assert.Equal(0.7, r.Accuracy, 12);
        Assert.Equal(0.75, r.Precision, 12);
        Assert.Equal(0.6, r.Recall, 12);
        Assert.Equal(2.0 / 3, r.F1, 12);
        Assert.Equal(0.8, r.RealAccuracy, 12);
    }

    [Fact]
    public void PerClass_FromTheManifest_ForRealAndClassMatchedFakes()
    {
        // Test split: REAL a,b,a (files 0–2) and FAKE b,a,b (files 0–2), listed out of order in the manifest;
        // a train entry and a class-less set must not count.
        using var tmp = new TempDir();
        string ds = tmp.File("ds");
        Directory.CreateDirectory(ds);
        string Entry(string path, string? cls) => cls is null ? $"{{\"path\":\"{path}\"}}" : $"{{\"path\":\"{path}\",\"class\":\"{cls}\"}}";
        string[] files =
        [
            Entry("test/FAKE/000002.png", "b"), Entry("test/REAL/000001.png", "b"), Entry("train/REAL/000000.png", "b"),
            Entry("test/REAL/000000.png", "a"), Entry("test/FAKE/000000.png", "b"), Entry("test/REAL/000002.png", "a"),
            Entry("test/FAKE/000001.png", "a"),
        ];
        File.WriteAllText(Path.Combine(ds, DatasetBuilder.ManifestFile), $"{{\"files\":[{string.Join(",", files)}]}}");
        // DetectionData order: REAL files by name, then FAKE files by name.
        int[] labels = [0, 0, 0, 1, 1, 1];
        var set = new ImageSet("ds", new byte[6 * 4], labels, 1, 2, 2, [DetectionData.Real, DetectionData.Fake], "test");
        double[] p = [0.2, 0.9, 0.6, 0.7, 0.1, 0.5];   // REAL: a right, b wrong, a wrong; FAKE: b right, a wrong, b right (≥ 0.5 is FAKE)
        var real = DetectionMetrics.PerClass(BuiltSetManifest.Open(ds), set, p, DetectionData.RealLabel);
        Assert.Equal([("a", 2, 0.5), ("b", 1, 0.0)], real);
        var fake = DetectionMetrics.PerClass(BuiltSetManifest.Open(ds), set, p, DetectionData.FakeLabel);
        Assert.Equal([("a", 1, 0.0), ("b", 2, 1.0)], fake);

        File.WriteAllText(Path.Combine(ds, DatasetBuilder.ManifestFile), $"{{\"files\":[{string.Join(",", files.Select(f => f.Replace(",\"class\":\"b\"", "")))}]}}");
        Assert.Empty(DetectionMetrics.PerClass(BuiltSetManifest.Open(ds), set, p, DetectionData.FakeLabel));   // a fake without its class: no breakdown
    }

    /// <summary>A 1×2×2 judge: class "bright" when the first pixel is above ½, else "dark".</summary>
    private sealed class BrightnessJudge : IClassifier
    {
        public int Channels => 1;
        public int Height => 2;
        public int Width => 2;
        public IReadOnlyList<string> ClassNames => ["dark", "bright"];
        public int Classes => 2;
        public string TrainingData => "";
        public Tensor Logits(Tensor images01)
        {
            Tensor bright = images01.flatten(1).select(1, 0).gt(0.5).to_type(ScalarType.Float32);
            return stack([bright.neg().add(1), bright], 1);
        }
    }

    [Fact]
    public void FakePerJudgedClass_GroupsTheFakesByTheJudgesClass()
    {
        // REAL, FAKE, FAKE, REAL, FAKE, FAKE: first pixels 0, 255, 0, 255, 255, 0 → fakes bright, dark, bright, dark.
        byte[] px = new byte[6 * 4];
        byte[] first = [0, 255, 0, 255, 255, 0];
        for (int i = 0; i < 6; i++) px[4 * i] = first[i];
        var set = new ImageSet("ds", px, [0, 1, 1, 0, 1, 1], 1, 2, 2, [DetectionData.Real, DetectionData.Fake], "test");
        double[] p = [0.9, 0.8, 0.1, 0.0, 0.3, 0.6];    // fakes: bright caught, dark missed, bright missed, dark caught
        var groups = DetectionMetrics.FakePerJudgedClass(new BrightnessJudge(), set, p);
        Assert.Equal([("bright", 2, 0.5), ("dark", 2, 0.5)], groups);
        double[] p2 = [0.9, 0.8, 0.1, 0.0, 0.7, 0.2];   // both bright fakes caught, both dark missed
        Assert.Equal([("bright", 2, 1.0), ("dark", 2, 0.0)], DetectionMetrics.FakePerJudgedClass(new BrightnessJudge(), set, p2));
        var wide = new ImageSet("wide", new byte[2 * 9], [1, 1], 1, 3, 3, [DetectionData.Real, DetectionData.Fake], "test");
        Assert.Empty(DetectionMetrics.FakePerJudgedClass(new BrightnessJudge(), wide, [0.9, 0.9]));   // another shape: no judge
    }

    [Fact]
    public void RocAuc_PerfectReversedTiedAndPairCount()
    {
        bool[] y = [false, false, true, true];
        Assert.Equal(1.0, DetectionMetrics.RocAuc(y, [0.1, 0.2, 0.8, 0.9]));
        Assert.Equal(0.0, DetectionMetrics.RocAuc(y, [0.9, 0.8, 0.2, 0.1]));
        Assert.Equal(0.5, DetectionMetrics.RocAuc(y, [0.5, 0.5, 0.5, 0.5]));
        Assert.True(double.IsNaN(DetectionMetrics.RocAuc([true, true], [0.1, 0.2])));
        // Against the definition: the share of (positive, negative) pairs ranked correctly, ties ½.
        var rng = new Random(3);
        bool[] yy = Enumerable.Range(0, 200).Select(_ => rng.Next(2) == 1).ToArray();
        double[] s = Enumerable.Range(0, 200).Select(_ => Math.Round(rng.NextDouble(), 1)).ToArray();   // many ties
        double pairs = 0, good = 0;
        for (int i = 0; i < 200; i++)
            for (int j = 0; j < 200; j++)
                if (yy[i] && !yy[j]) { pairs++; good += s[i] > s[j] ? 1 : s[i] == s[j] ? 0.5 : 0; }
        Assert.Equal(good / pairs, DetectionMetrics.RocAuc(yy, s), 12);
    }

    [Theory]
    [InlineData(DetectorConfig.Cifake)]
    [InlineData(DetectorConfig.ResNetS)]
    public void SigmoidHead_RealMapIsFakeMapOfNegatedHead(string arch)
    {
        using var net = Net(arch);
        using var negated = Net(arch);
        net.to(ScalarType.Float64);
        negated.to(ScalarType.Float64);
        using (no_grad())
            foreach (var (name, p) in negated.named_parameters())
                if (name.StartsWith("logit.") || name.StartsWith("resnet.fc.")) p.neg_();
        var a = new DetectorModel(net, net.Config, "", 0, owns: false);
        var b = new DetectorModel(negated, negated.Config, "", 0, owns: false);
        using var g = new Generator(11);
        Tensor x = rand([3, 1, 28, 28], ScalarType.Float64, generator: g);
        var (alphaReal, mapReal, scoresA) = GradCam.Raw(a, x, [0, 0, 0]);
        var (alphaFake, mapFake, scoresB) = GradCam.Raw(b, x, [1, 1, 1]);
        Assert.True(mapReal.abs().sum().item<double>() > 0);
        Assert.True(mapReal.allclose(mapFake, rtol: 1e-12, atol: 1e-14));
        Assert.True(alphaReal.allclose(alphaFake, rtol: 1e-12, atol: 1e-14));
        // The detector's class scores are (−z, z) and its logits (0, z): softmax gives p(fake) = σ(z).
        Assert.True(scoresA.select(1, 0).allclose(scoresA.select(1, 1).neg()));
        Tensor logits = a.Logits(x);
        Assert.True(softmax(logits, 1).select(1, 1).allclose(sigmoid(scoresA.select(1, 1)), rtol: 1e-12, atol: 1e-14));
    }

    /// <summary>Fixed activations A fed to a detector's head: Grad-CAM's α can then be checked against finite differences.</summary>
    private sealed class FixedActivations(DetectorModel model, Tensor a) : IConvClassifier
    {
        public int Channels => model.Channels;
        public int Height => model.Height;
        public int Width => model.Width;
        public IReadOnlyList<string> ClassNames => model.ClassNames;
        public int Classes => 2;
        public string TrainingData => "";
        public string CamLayer => model.CamLayer;
        public Tensor CamActivations(Tensor images01) => a;
        public Tensor CamScores(Tensor activations) => model.CamScores(activations);
        public Tensor Logits(Tensor images01) => model.CamScores(a);
    }

    [Fact]
    public void NonGapHead_AlphaMatchesCentralFiniteDifferences()
    {
        using var net = Net();
        net.to(ScalarType.Float64);
        var model = new DetectorModel(net, net.Config, "", 0, owns: false);
        using var g = new Generator(5);
        // Positive activations without ties, so the max-pool's choice is stable under ±h.
        Tensor a = rand([1, 32, 11, 11], ScalarType.Float64, generator: g) + 0.1;
        var (alpha, _, _) = GradCam.Raw(new FixedActivations(model, a), zeros(1, 1, 28, 28, ScalarType.Float64), [1]);
        double[] got = alpha.data<double>().ToArray();
        const double h = 1e-6;
        using var _ = no_grad();
        foreach (int k in new[] { 0, 5, 17, 31 })
        {
            // One batch holds A ± h·e for every position of channel k.
            Tensor plus = a.repeat(121, 1, 1, 1), minus = a.repeat(121, 1, 1, 1);
            for (int p = 0; p < 121; p++)
            {
                plus[p, k, p / 11, p % 11] += h;
                minus[p, k, p / 11, p % 11] -= h;
            }
            double fd = ((net.Head(plus) - net.Head(minus)) / (2 * h)).mean().item<double>();
            Assert.True(Math.Abs(fd - got[k]) <= 1e-6 * Math.Max(Math.Abs(fd), 1e-3), $"channel {k}: autograd {got[k]}, finite differences {fd}");
        }
    }

    [Fact]
    public void CifakeTree_LabelsByFolderName_FakeIsOne()
    {
        using var tmp = new TempDir();
        var (px, _) = Synthetic.Images(12, 2, 16, 3, 9);
        int per = 3 * 16 * 16;
        int k = 0;
        foreach (string split in new[] { "train", "test" })
            foreach (var (folder, count) in new[] { ("real", 2), ("Fake", 4) })
            {
                string dir = tmp.File(Path.Combine(split, folder));
                Directory.CreateDirectory(dir);
                for (int i = 0; i < count; i++, k++)
                {
                    if (i % 2 == 0) ImageCodec.WritePng(Path.Combine(dir, $"{i}.png"), px.AsSpan(k * per, per), 3, 16, 16);
                    else
                    {
                        File.WriteAllBytes(Path.Combine(dir, $"{i}.jpg"), Jpeg(px.AsSpan(k * per, per), 16));
                    }
                }
            }
        ImageSet train = DetectionData.Load("cifake:" + tmp.Path, Split.Train);
        ImageSet test = DetectionData.Load(tmp.Path + ":test", Split.Train);
        Assert.Equal(["REAL", "FAKE"], train.ClassNames);
        Assert.Equal(4, train.Labels.Count(l => l == DetectionData.FakeLabel));
        Assert.Equal(2, train.Labels.Count(l => l == DetectionData.RealLabel));
        Assert.Equal(6, test.Count);
        Assert.Equal(3, train.Channels);

        Directory.CreateDirectory(tmp.File("other/train/cats"));
        File.Copy(Directory.GetFiles(tmp.File("train/real"))[0], tmp.File("other/train/cats/a.png"));
        Directory.CreateDirectory(tmp.File("other/train/dogs"));
        File.Copy(Directory.GetFiles(tmp.File("train/real"))[0], tmp.File("other/train/dogs/a.png"));
        var e = Assert.Throws<GenInputException>(() => DetectionData.Load(tmp.File("other"), Split.Train));
        Assert.Contains("REAL and FAKE", e.Message);
    }

    private static byte[] Jpeg(ReadOnlySpan<byte> rgb, int size)
    {
        using var bmp = new SKBitmap(new SKImageInfo(size, size, SKColorType.Rgba8888, SKAlphaType.Opaque));
        int plane = size * size;
        for (int p = 0; p < plane; p++) bmp.SetPixel(p % size, p / size, new SKColor(rgb[p], rgb[plane + p], rgb[2 * plane + p]));
        using var data = bmp.Encode(SKEncodedImageFormat.Jpeg, 90);
        return data.ToArray();
    }

    [Theory]
    [InlineData(DetectorConfig.Cifake, 28, 1)]
    [InlineData(DetectorConfig.CifakeWide, 32, 3)]
    [InlineData(DetectorConfig.ResNetS, 28, 1)]
    public void OnnxExport_MatchesTorchSharp(string arch, int size, int channels)
    {
        using var tmp = new TempDir();
        using var net = Net(arch, 3, size, channels);
        string ckpt = tmp.File("det.safetensors");
        Checkpoint.Save(ckpt, net, DetectorModel.KindName, Json.Serialize(net.Config, indented: false), 5);
        using var model = DetectorModel.Load(ckpt);
        OnnxExportReport rep = OnnxModels.Export(model, model, ckpt, tmp.File("det.onnx"));
        Assert.True(rep.MaxRelativeError <= 1e-5, $"relative error {rep.MaxRelativeError}");
        using var onnx = OnnxModels.Open(tmp.File("det.onnx"));
        var classifier = Assert.IsAssignableFrom<IClassifier>(onnx);
        Assert.Equal(["REAL", "FAKE"], classifier.ClassNames);
        using var g = new Generator(2);
        Tensor x = rand([5, channels, size, size], generator: g);
        Tensor fromOnnx = classifier.Logits(x), fromTorch;
        using (no_grad()) fromTorch = model.Logits(x);
        Assert.True(fromOnnx.allclose(fromTorch, rtol: 1e-4, atol: 1e-5));
        Assert.True(fromOnnx.select(1, 0).eq(0).all().item<bool>());      // the REAL logit is the constant 0
    }

    [Fact]
    public void Holdout_IsSeededDisjointAndComplete()
    {
        ImageSet set = TinyData.Train;
        var (fit, val) = DetectorTraining.Holdout(set, 0.1, 3);
        var (fit2, val2) = DetectorTraining.Holdout(set, 0.1, 3);
        var (_, val3) = DetectorTraining.Holdout(set, 0.1, 4);
        Assert.Equal((int)Math.Round(0.1 * set.Count), val.Count);
        Assert.Equal(set.Count, fit.Count + val.Count);
        Assert.Equal(val.Pixels, val2.Pixels);
        Assert.Equal(fit.Pixels, fit2.Pixels);
        Assert.NotEqual(val.Pixels, val3.Pixels);
    }
}

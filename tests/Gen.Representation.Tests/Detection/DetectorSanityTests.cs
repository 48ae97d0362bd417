using System.Text.Json;
using Gen.Cli;
using Gen.Pipeline.Classifier;
using Gen.Pipeline.Data;
using Gen.Pipeline.Imaging;
using Gen.Representation.Detection;
using static TorchSharp.torch;

namespace Gen.Representation.Tests.Detection;

/// <summary>The detector sanity checks of docs/methods/detection.md §6 on Fashion-MNIST, trained through
/// `gen train detector` on CIFAKE-layout folders: a planted patch is found (and Grad-CAM points at it),
/// shuffled labels and REAL-vs-REAL give chance.</summary>
public sealed class DetectorSanityTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private const int Train = 2000, Test = 500, Size = 28;

    private static (int Code, string Out, string Err) Gen(params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        int code = GenCli.Run(args, o, e, interactive: false);
        return (code, o.ToString(), e.ToString());
    }

    private static readonly Lazy<(ImageSet Train, ImageSet Test)> Fmnist = new(() =>
        (DatasetCatalog.Load("fashion-mnist", Split.Train), DatasetCatalog.Load("fashion-mnist", Split.Test)));

    /// <summary>Image i of a set, with a 3×3 patch of 255 at a seeded place when <paramref name="patch"/> is given.</summary>
    private static byte[] Image(ImageSet set, int i, (int Y, int X)? patch)
    {
        byte[] px = set.Image(i).ToArray();
        if (patch is var (y0, x0))
            for (int y = y0; y < y0 + 3; y++)
                for (int x = x0; x < x0 + 3; x++) px[y * Size + x] = 255;
        return px;
    }

    private static void Write(string dir, IEnumerable<byte[]> images)
    {
        Directory.CreateDirectory(dir);
        int i = 0;
        foreach (byte[] px in images) ImageCodec.WritePng(Path.Combine(dir, $"{i++:D5}.png"), px, 1, Size, Size);
    }

    private static string TrainDetector(string data, string outDir, string arch = DetectorConfig.Cifake, int epochs = 3, int threads = 1)
    {
        var (code, _, err) = Gen("train", "detector", "--data", data, "--arch", arch, "--epochs", epochs.ToString(), "--threads", threads.ToString(), "--out", outDir, "--json");
        Assert.True(code == 0, err);
        return outDir;
    }

    [Fact]
    public void PlantedPatch_IsDetected_AndGradCamPointsAtIt()
    {
        // The spec's check at its scale: the whole training split (30,000 REAL + 30,000 FAKE) for 3 epochs.
        // On 2,000 + 2,000 images (168 steps) no setting reached 99 % reliably (docs/methods/detection.md §6).
        using var tmp = new TempDir();
        var (train, test) = Fmnist.Value;
        int half = train.Count / 2;
        var rng = new Random(1);
        (int, int) Place() => (rng.Next(Size - 2), rng.Next(Size - 2));
        Write(tmp.File("ds/train/REAL"), Enumerable.Range(0, half).Select(i => Image(train, i, null)));
        Write(tmp.File("ds/train/FAKE"), Enumerable.Range(half, half).Select(i => Image(train, i, Place())));
        var places = Enumerable.Range(0, Test).Select(_ => Place()).ToArray();
        Write(tmp.File("ds/test/REAL"), Enumerable.Range(0, Test).Select(i => Image(test, i, null)));
        Write(tmp.File("ds/test/FAKE"), Enumerable.Range(0, Test).Select(i => Image(test, Test + i, places[i])));
        // resnet-s, not cifake: a patch anywhere is a position-invariant cue, which global pooling learns
        // faster than cifake's flatten + dense head (docs/methods/detection.md §6).
        string det = TrainDetector(tmp.File("ds"), tmp.File("det"), DetectorConfig.ResNetS, epochs: 3, threads: 2);

        var (code, stdout, err) = Gen("detect", "eval", det, tmp.File("ds"), "--json");
        Assert.True(code == 0, err);
        var root = JsonDocument.Parse(stdout).RootElement;
        double auc = root.GetProperty("roc_auc").GetDouble(), acc = root.GetProperty("accuracy").GetDouble();
        output.WriteLine($"planted patch: accuracy {acc}, ROC-AUC {auc}");
        Assert.True(acc >= 0.99, $"accuracy {acc}, ROC-AUC {auc}");

        using var model = DetectorModel.Load(det);
        ImageSet fakes = DetectionData.Load(tmp.File("ds"), Split.Test);
        int[] fakeIdx = Enumerable.Range(0, fakes.Count).Where(i => fakes.Labels[i] == DetectionData.FakeLabel).ToArray();
        CamMap[] cams = GradCam.Explain(model, Batches.Float(fakes, fakeIdx), "fake");
        int correct = 0, onPatch = 0;
        for (int k = 0; k < cams.Length; k++)
        {
            if (cams[k].Probabilities[1] < 0.5) continue;
            correct++;
            var (row, col) = cams[k].Peak(Size);
            var (y0, x0) = places[k];          // FAKE files are read in name order: file k holds place k
            int dy = Math.Max(0, Math.Max(y0 - row, row - (y0 + 2))), dx = Math.Max(0, Math.Max(x0 - col, col - (x0 + 2)));
            if (Math.Max(dy, dx) <= 2) onPatch++;
        }
        output.WriteLine($"Grad-CAM peak within 2 px of the patch for {onPatch} of {correct} detected fakes");
        Assert.True(onPatch >= 0.8 * correct, $"Grad-CAM peak near the patch for {onPatch} of {correct} detected fakes");
    }

    [Fact]
    public void ShuffledLabels_GiveChanceAccuracy()
    {
        using var tmp = new TempDir();
        var (train, test) = Fmnist.Value;
        var rng = new Random(2);
        (int, int) Place() => (rng.Next(Size - 2), rng.Next(Size - 2));
        var all = Enumerable.Range(0, Train).Select(i => Image(train, i, null))
                            .Concat(Enumerable.Range(Train, Train).Select(i => Image(train, i, Place()))).ToArray();
        rng.Shuffle(all);                                  // the folder no longer says whether an image has the patch
        Write(tmp.File("ds/train/REAL"), all[..Train]);
        Write(tmp.File("ds/train/FAKE"), all[Train..]);
        Write(tmp.File("ds/test/REAL"), Enumerable.Range(0, Test).Select(i => Image(test, i, null)));
        Write(tmp.File("ds/test/FAKE"), Enumerable.Range(Test, Test).Select(i => Image(test, i, Place())));
        string det = TrainDetector(tmp.File("ds"), tmp.File("det"));
        var (code, stdout, err) = Gen("detect", "eval", det, tmp.File("ds"), "--json");
        Assert.True(code == 0, err);
        double acc = JsonDocument.Parse(stdout).RootElement.GetProperty("accuracy").GetDouble();
        Assert.InRange(acc, 0.47, 0.53);
    }

    [Fact]
    public void RealVersusReal_GivesChanceRocAuc()
    {
        using var tmp = new TempDir();
        var (train, test) = Fmnist.Value;
        Write(tmp.File("ds/train/REAL"), Enumerable.Range(0, Train).Select(i => Image(train, i, null)));
        Write(tmp.File("ds/train/FAKE"), Enumerable.Range(Train, Train).Select(i => Image(train, i, null)));
        Write(tmp.File("ds/test/REAL"), Enumerable.Range(0, Test).Select(i => Image(test, i, null)));
        Write(tmp.File("ds/test/FAKE"), Enumerable.Range(Test, Test).Select(i => Image(test, i, null)));
        string det = TrainDetector(tmp.File("ds"), tmp.File("det"));
        var (code, stdout, err) = Gen("detect", "eval", det, tmp.File("ds"), "--json");
        Assert.True(code == 0, err);
        double auc = JsonDocument.Parse(stdout).RootElement.GetProperty("roc_auc").GetDouble();
        Assert.InRange(auc, 0.47, 0.53);
    }
}

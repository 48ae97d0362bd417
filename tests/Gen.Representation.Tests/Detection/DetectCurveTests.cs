using Gen.Pipeline.Checkpoints;
using Gen.Pipeline.Data;
using Gen.Pipeline.Methods;
using Gen.Pipeline.Stages;
using Gen.Representation.Detection;

namespace Gen.Representation.Tests.Detection;

/// <summary>A stand-in generator whose samples are training images plus noise that shrinks with the
/// checkpoint's step: early checkpoints are easy to detect, the last one copies the data.</summary>
internal sealed class ImprovingSampler(ImageSet data, long step) : IImageSampler
{
    public int Channels => data.Channels;
    public int Height => data.Height;
    public int Width => data.Width;
    public string Description => $"improving sampler step {step}";

    public byte[] SampleUint8(int count, long firstSeed, IProgress<int>? progress = null)
    {
        int per = data.ImageBytes;
        int amplitude = step >= 100 ? 0 : 120;
        var px = new byte[count * per];
        for (int n = 0; n < count; n++)
        {
            long seed = firstSeed + n;
            var rng = new SplitMix((ulong)seed);
            var src = data.Image((int)(seed % data.Count));
            for (int i = 0; i < per; i++) px[n * per + i] = (byte)Math.Min(255, src[i] + (amplitude == 0 ? 0 : (int)rng.NextBelow((ulong)amplitude)));
        }
        return px;
    }

    public void Dispose() { }
}

public sealed class DetectCurveTests
{
    [Fact]
    public void Curve_FallsAsTheGeneratorImproves_AndIsCached()
    {
        using var tmp = new TempDir();
        ImageSet train = TinyData.Train;
        ImageGenerators.Register("improving-test", file => new ImprovingSampler(train, Checkpoint.ReadInfo(file).Step));
        string run = tmp.File("run");
        Directory.CreateDirectory(Path.Combine(run, "checkpoints"));
        foreach (long step in new[] { 10L, 100L })
            SafeTensors.Write(Path.Combine(run, "checkpoints", $"step-{step:D8}.safetensors"), [], Checkpoint.Metadata("improving-test", "{}", step));
        File.WriteAllText(Path.Combine(run, DetectCurve.FidCurveFile), """{"metric": "FID", "points": [{"step": 10, "value": 80.0}, {"step": 100, "value": 5.0}]}""");

        var p = new DetectCurveParams { Real = TinyData.Path + ":test", N = 200, NTest = 100, Epochs = 6, Threads = 1 };
        DetectCurveResult res = DetectCurve.Run(run, p);
        Assert.Equal([10L, 100L], res.Points.Select(x => x.Step));
        Assert.True(res.Points[0].RocAuc >= 0.9, $"step 10: ROC-AUC {res.Points[0].RocAuc}");
        Assert.True(res.Points[1].RocAuc <= 0.65, $"step 100: ROC-AUC {res.Points[1].RocAuc}");
        Assert.True(res.WithFid);
        Assert.True(File.Exists(res.Plot));
        Assert.True(File.Exists(res.Json));

        DetectCurveResult again = DetectCurve.Run(run, p);
        Assert.All(again.Points, x => Assert.True(x.Reused));
        Assert.Equal(res.Points.Select(x => x.Accuracy), again.Points.Select(x => x.Accuracy));
        Assert.DoesNotContain(DetectCurve.Run(run, p with { Epochs = 1 }).Points, x => x.Reused);   // another key: recomputed
    }

    [Fact]
    public void RunWithoutSnapshots_IsAOneLineError()
    {
        using var tmp = new TempDir();
        Directory.CreateDirectory(tmp.File("run"));
        var e = Assert.Throws<Gen.Pipeline.GenInputException>(() => DetectCurve.Run(tmp.File("run"), new DetectCurveParams { Real = TinyData.Path + ":test" }));
        Assert.Contains("--checkpoint-every", e.Message);
    }
}

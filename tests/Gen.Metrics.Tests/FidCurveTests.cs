// fid-curve: every snapshot of a run sampled with the same seeds, a JSON table and a PNG, and reuse of points.
using System.Text.Json;
using Gen.Metrics.Features;
using Gen.Pipeline;
using Gen.Pipeline.Checkpoints;
using Gen.Pipeline.Methods;
using Gen.Pipeline.Stages;
using static TorchSharp.torch;

namespace Gen.Metrics.Tests;

public sealed class FidCurveTests
{
    /// <summary>A "generator" whose images get brighter with its step, seeded per image.</summary>
    private sealed class StepSampler(long step) : IImageSampler
    {
        public static int Calls;
        public int Channels => 1;
        public int Height => 28;
        public int Width => 28;
        public string Description => $"toy step {step}";

        public byte[] SampleUint8(int count, long firstSeed, IProgress<int>? progress = null)
        {
            Interlocked.Increment(ref Calls);
            var px = new byte[count * 784];
            for (int i = 0; i < count; i++)
            {
                byte[] noise = Formula.Images((ulong)(firstSeed + i), 1, 1, 28, 28);
                for (int p = 0; p < 784; p++) px[i * 784 + p] = (byte)Math.Min(255, noise[p] / 4 + 40 * step / 100);
            }
            return px;
        }

        public void Dispose() { }
    }

    [Fact]
    public void EveryCheckpoint_GetsAPoint_JsonAndPlotAreWritten_AndPointsAreReused()
    {
        using var tmp = new TempDir();
        ImageGenerators.Register("toy-curve", path => new StepSampler(Checkpoint.Info(SafeTensors.Read(path)).Step));
        string snapshots = Directory.CreateDirectory(tmp.File("run/checkpoints")).FullName;
        foreach (long step in new long[] { 100, 200, 300 })
            using (var w = zeros(1)) Checkpoint.Save(Path.Combine(snapshots, $"step-{step:D8}.safetensors"), [new("w", w)], "toy-curve", "{}", step);
        var options = new ExtractorOptions { Kind = ExtractorKind.Fmnist, Batch = 16 };
        CurveResult r = FidCurve.Run(tmp.File("run"), "fashion-mnist:test", 12, 0, options);
        Assert.Equal("FD-FMNIST", r.Metric);
        Assert.Equal([100L, 200L, 300L], r.Points.Select(p => p.Step));
        Assert.All(r.Points, p => Assert.True(double.IsFinite(p.Value) && p.Value > 0));
        Assert.NotEqual(r.Points[0].Value, r.Points[2].Value);
        Assert.True(File.Exists(r.Plot));
        using (var doc = JsonDocument.Parse(File.ReadAllText(r.Json)))
            Assert.Equal(3, doc.RootElement.GetProperty("points").GetArrayLength());

        int calls = StepSampler.Calls;
        CurveResult again = FidCurve.Run(tmp.File("run"), "fashion-mnist:test", 12, 0, options);
        Assert.Equal(calls, StepSampler.Calls);                     // nothing sampled again
        Assert.All(again.Points, p => Assert.True(p.Reused));
        Assert.Equal(r.Points.Select(p => p.Value), again.Points.Select(p => p.Value));
        FidCurve.Run(tmp.File("run"), "fashion-mnist:test", 13, 0, options);
        Assert.True(StepSampler.Calls > calls);                      // another N is another key
    }

    [Fact]
    public void RunWithoutSnapshots_IsAnInputError()
    {
        using var tmp = new TempDir();
        var e = Assert.Throws<GenInputException>(() => FidCurve.Run(tmp.Path, "fashion-mnist:test", 10, 0, new ExtractorOptions { Kind = ExtractorKind.Fmnist }));
        Assert.Contains("checkpoints", e.Message);
    }
}

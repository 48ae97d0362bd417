// SIGKILL of a real `gen train classifier` process at deterministic points (GEN_TEST_KILL_AT: after a
// given step, inside a given atomic file write), so the test kills at the same places on a fast or a
// slow machine: the checkpoint on disk must always load, and --resume must continue the run exactly
// (same loss curve and final weights as a run never interrupted).
using Gen.Pipeline;
using Gen.Pipeline.Checkpoints;
using Gen.Pipeline.Training;

namespace Gen.Cli.Tests;

public sealed class CrashSafetyTests
{
    private static string[] Args(string data, string run) =>
        [.. new[] { "train", "classifier", "--data", data, "--out", run, "--steps", "80", "--checkpoint-every", "10", "--seed", "5" }, .. ClassifierCommandTests.Tiny];

    private static List<(double Step, double Loss)> Curve(string run) =>
        MetricsLog.Read(Path.Combine(run, Trainer.MetricsFile)).Where(r => r.ContainsKey("loss")).Select(r => (r["step"], r["loss"])).ToList();

    private static void AssertSameWeights(string a, string b)
    {
        var wa = SafeTensors.Read(a).Tensors;
        var wb = SafeTensors.Read(b).Tensors;
        Assert.Equal(wa.Keys.Order(), wb.Keys.Order());
        foreach (var k in wa.Keys) Assert.True(wa[k].Data.SequenceEqual(wb[k].Data), $"{k} differs");
    }

    [Theory]
    [InlineData("step:25", "write:3")]    // mid-training (between the checkpoints at 20 and 30), then inside a checkpoint write
    [InlineData("write:4", "step:13")]    // inside the first checkpoint's files, then after the next checkpoint of a fresh start
    public void KillDuringTrainingAndDuringCheckpointWrites_ResumeContinuesExactly(string firstKill, string secondKill)
    {
        using var tmp = new TempDir();
        string data = ToyData.Write(tmp.File("toy"));
        string straight = tmp.File("straight");
        var s = Cli.RunProcess(null, Args(data, straight));
        Assert.True(s.ExitCode == 0, s.Err);

        string run = tmp.File("killed");
        var k1 = Cli.RunProcess(new Dictionary<string, string> { [FaultPoints.Variable] = firstKill }, Args(data, run));
        Assert.Equal(137, k1.ExitCode);
        AssertLoadable(run);
        bool canResume = File.Exists(Path.Combine(run, Trainer.StateFile));
        var k2 = Cli.RunProcess(new Dictionary<string, string> { [FaultPoints.Variable] = secondKill }, canResume ? [.. Args(data, run), "--resume"] : Args(data, run));
        Assert.Equal(137, k2.ExitCode);
        AssertLoadable(run);

        var finish = Cli.RunProcess(null, [.. Args(data, run), "--resume"]);
        Assert.True(finish.ExitCode == 0, finish.Err);
        AssertSameWeights(Path.Combine(straight, Trainer.LastFile), Path.Combine(run, Trainer.LastFile));
        Assert.Equal(Curve(straight), Curve(run));
    }

    /// <summary>Whatever the kill hit, the checkpoint files on disk (if any yet) load.</summary>
    private static void AssertLoadable(string run)
    {
        foreach (string f in new[] { Trainer.LastFile, Trainer.StateFile })
            if (File.Exists(Path.Combine(run, f))) Checkpoint.Open(Path.Combine(run, f), "classifier");
        if (Directory.Exists(Path.Combine(run, Trainer.SnapshotDir)))
            foreach (string f in Directory.GetFiles(Path.Combine(run, Trainer.SnapshotDir), "*.safetensors")) Checkpoint.Open(f, "classifier");
    }
}

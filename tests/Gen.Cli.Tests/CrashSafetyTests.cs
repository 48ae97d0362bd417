// SIGKILL at random points of a real `gen train classifier` process, during training and during
// checkpoint writing: the checkpoint on disk must always load, and --resume must continue the run
// exactly (same loss curve and final weights as a run never interrupted).
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

    [Fact]
    public async Task KillDuringTrainingAndDuringCheckpointWrites_ResumeContinuesExactly()
    {
        using var tmp = new TempDir();
        string data = ToyData.Write(tmp.File("toy"));
        string straight = tmp.File("straight");
        var s = Cli.RunProcess(null, Args(data, straight));
        Assert.True(s.ExitCode == 0, s.Err);

        var rng = new Random(1234);
        string run = tmp.File("killed");
        int kills = 0, killsWhileWriting = 0;
        // Alternate: kill at a random moment of training, then kill while a checkpoint write is paused
        // just before its rename (GEN_TEST_RENAME_DELAY_MS), until the run completes.
        for (int attempt = 0; attempt < 12; attempt++)
        {
            bool duringWrite = attempt % 2 == 1;
            var env = duringWrite ? new Dictionary<string, string> { ["GEN_TEST_RENAME_DELAY_MS"] = "1500" } : null;
            bool resume = File.Exists(Path.Combine(run, Trainer.StateFile));
            string[] args = resume ? [.. Args(data, run), "--resume"] : Args(data, run);
            using var p = Cli.Start(env, args);
            _ = p.StandardOutput.ReadToEndAsync();
            var err = p.StandardError.ReadToEndAsync();
            bool killed = false;
            var deadline = DateTime.UtcNow.AddSeconds(60);
            string metrics = Path.Combine(run, Trainer.MetricsFile);
            long linesAtStart = File.Exists(metrics) ? File.ReadLines(metrics).LongCount() : 0;
            while (!p.HasExited && DateTime.UtcNow < deadline)
            {
                if (duringWrite && Directory.Exists(run) && Directory.EnumerateFiles(run, "*.writing", SearchOption.AllDirectories).Any())
                {
                    Thread.Sleep(rng.Next(0, 1000));   // somewhere inside the paused write
                    break;
                }
                if (!duringWrite && File.Exists(metrics) && File.ReadLines(metrics).LongCount() > linesAtStart)
                {
                    Thread.Sleep(rng.Next(0, 600));    // a random moment of training
                    break;
                }
                Thread.Sleep(10);
            }
            if (!p.HasExited)
            {
                p.Kill();                               // SIGKILL on Linux
                p.WaitForExit();
                killed = true;
                kills++;
                if (duringWrite) killsWhileWriting++;
            }
            else
            {
                // A kill that landed after the final checkpoint leaves a finished run; resuming it is
                // then refused with exit 2 ("already finished"), which is the right answer.
                string e = await err;
                Assert.True(p.ExitCode == 0 || (p.ExitCode == 2 && e.Contains("already finished")), $"run failed ({p.ExitCode}): {e}");
            }

            // Whatever happened, the checkpoint on disk (if any yet) must load.
            string last = Path.Combine(run, Trainer.LastFile);
            if (File.Exists(last)) Checkpoint.Open(last, "classifier");
            if (File.Exists(Path.Combine(run, Trainer.StateFile))) Checkpoint.Open(Path.Combine(run, Trainer.StateFile), "classifier");
            foreach (var w in Directory.Exists(run) ? Directory.EnumerateFiles(run, "*.writing", SearchOption.AllDirectories) : []) File.Delete(w);
            if (!killed) break;
        }
        Assert.True(kills >= 2, $"only {kills} kills happened");
        Assert.True(killsWhileWriting >= 1, "no kill landed inside a checkpoint write");

        var finish = Cli.RunProcess(null, [.. Args(data, run), "--resume"]);
        Assert.True(finish.ExitCode is 0 or 2, finish.Err);   // 2 if the last attempt had already finished
        AssertSameWeights(Path.Combine(straight, Trainer.LastFile), Path.Combine(run, Trainer.LastFile));
        Assert.Equal(Curve(straight), Curve(run));
    }
}

// The pipeline runner on a tiny pipeline (seconds): a first run runs every stage, a second run
// recomputes nothing (same files, run log says cached), a changed parameter reruns only that stage
// and what depends on it, a SIGKILL mid-training (deterministic kill point) resumes to the same
// outputs as an uninterrupted run, and every bad pipeline file is a one-line error, exit 2.
using System.Text.Json.Nodes;
using Gen.Pipeline;
using Gen.Pipeline.Checkpoints;
using Gen.Pipeline.Stages;
using Gen.Pipeline.Training;

namespace Gen.Cli.Tests;

public sealed class PipelineRunnerTests
{
    private static string Pipeline(string data, int steps = 12, double lr = 0.05) => $$"""
    {
      "stages": [
        { "name": "clf", "kind": "train-classifier", "inputs": { "data": "{{data}}" },
          "params": { "steps": {{steps}}, "lr": {{lr.ToString(System.Globalization.CultureInfo.InvariantCulture)}}, "width": 4, "blocks": [1, 1, 1], "batch": 32,
                      "warmup": 2, "checkpoint_every": 4, "log_every": 2, "threads": 2 } },
        { "name": "eval", "kind": "eval-classifier", "inputs": { "checkpoint": "@clf", "data": "{{data}}:test" } },
        { "name": "other", "kind": "train-classifier", "inputs": { "data": "{{data}}" },
          "params": { "steps": 4, "width": 4, "blocks": [1, 1, 1], "batch": 32, "threads": 2 } }
      ]
    }
    """;

    private static List<JsonObject> Log(string outDir) =>
        File.ReadAllLines(Path.Combine(outDir, PipelineRunner.RunLog)).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();

    private static Dictionary<string, string> Actions(string outDir, int lastN) =>
        Log(outDir).TakeLast(lastN).ToDictionary(o => o["stage"]!.GetValue<string>(), o => o["action"]!.GetValue<string>());

    private static string Folder(string outDir, string stage) => Directory.GetDirectories(outDir, stage + "-*").Single();

    [Fact]
    public void Rerun_SkipsAll_ChangedParameter_RerunsOnlyDownstream()
    {
        using var tmp = new TempDir();
        string data = ToyData.Write(tmp.File("toy"), train: 128, test: 64);
        string file = tmp.File("p.json"), outDir = tmp.File("out");
        File.WriteAllText(file, Pipeline(data));

        var first = Cli.Run("run", file, "--out", outDir);
        Assert.True(first.ExitCode == 0, first.Err);
        Assert.Equal(new Dictionary<string, string> { ["clf"] = "run", ["eval"] = "run", ["other"] = "run" }, Actions(outDir, 3));
        string last = Path.Combine(Folder(outDir, "clf"), Trainer.LastFile), evalJson = Path.Combine(Folder(outDir, "eval"), EvalClassifierStage.FileName);
        var stamps = new[] { last, evalJson }.ToDictionary(f => f, File.GetLastWriteTimeUtc);

        var second = Cli.Run("run", file, "--out", outDir);
        Assert.True(second.ExitCode == 0, second.Err);
        Assert.Equal(new Dictionary<string, string> { ["clf"] = "cached", ["eval"] = "cached", ["other"] = "cached" }, Actions(outDir, 3));
        foreach (var (f, t) in stamps) Assert.Equal(t, File.GetLastWriteTimeUtc(f));   // nothing rewritten

        var dry = Cli.Run("run", file, "--out", outDir, "--dry-run", "--json");
        Assert.All(JsonNode.Parse(dry.Out)!.AsArray(), s => Assert.Equal("cached", s!["action"]!.GetValue<string>()));

        File.WriteAllText(file, Pipeline(data, lr: 0.02));
        var third = Cli.Run("run", file, "--out", outDir);
        Assert.True(third.ExitCode == 0, third.Err);
        Assert.Equal(new Dictionary<string, string> { ["clf"] = "run", ["eval"] = "run", ["other"] = "cached" }, Actions(outDir, 3));
        Assert.Equal(2, Directory.GetDirectories(outDir, "clf-*").Length);   // the old result is kept under its own key
    }

    [Fact]
    public void KilledMidTraining_RerunResumes_ToTheUninterruptedOutputs()
    {
        using var tmp = new TempDir();
        string data = ToyData.Write(tmp.File("toy"), train: 128, test: 64);
        string file = tmp.File("p.json");
        File.WriteAllText(file, Pipeline(data));

        Assert.Equal(0, Cli.RunProcess(null, "run", file, "--out", tmp.File("straight")).ExitCode);

        string outDir = tmp.File("killed");
        // Step 7 of this process: after the checkpoint at step 4, before the one at step 8.
        var killed = Cli.RunProcess(new Dictionary<string, string> { [FaultPoints.Variable] = "step:7" }, "run", file, "--out", outDir);
        Assert.Equal(137, killed.ExitCode);   // SIGKILL
        Assert.Equal("running", JsonNode.Parse(File.ReadAllText(Path.Combine(Folder(outDir, "clf"), StageManifest.FileName)))!["status"]!.GetValue<string>());
        // Killed again inside an atomic write (the checkpoint files), then left to finish.
        var killedWrite = Cli.RunProcess(new Dictionary<string, string> { [FaultPoints.Variable] = "write:2" }, "run", file, "--out", outDir);
        Assert.Equal(137, killedWrite.ExitCode);
        var rerun = Cli.RunProcess(null, "run", file, "--out", outDir);
        Assert.True(rerun.ExitCode == 0, rerun.Err);
        Assert.Equal("resume", Actions(outDir, 3)["clf"]);

        static Dictionary<string, byte[]> W(string f) => SafeTensors.Read(f).Tensors.ToDictionary(kv => kv.Key, kv => kv.Value.Data);
        var a = W(Path.Combine(Folder(tmp.File("straight"), "clf"), Trainer.LastFile));
        var b = W(Path.Combine(Folder(outDir, "clf"), Trainer.LastFile));
        Assert.All(a.Keys, k => Assert.True(a[k].SequenceEqual(b[k]), k));
        Assert.Equal(Path.GetFileName(Folder(tmp.File("straight"), "clf")), Path.GetFileName(Folder(outDir, "clf")));   // same key
        var ea = JsonNode.Parse(File.ReadAllText(Path.Combine(Folder(tmp.File("straight"), "eval"), EvalClassifierStage.FileName)))!;
        var eb = JsonNode.Parse(File.ReadAllText(Path.Combine(Folder(outDir, "eval"), EvalClassifierStage.FileName)))!;
        Assert.Equal(ea["confusion"]!.ToJsonString(), eb["confusion"]!.ToJsonString());
    }

    [Theory]
    [InlineData("{ not json", "not valid JSON")]
    [InlineData("""{ "stages": [ { "name": "a", "kind": "train-nothing" } ] }""", "unknown kind 'train-nothing'")]
    [InlineData("""{ "stages": [ { "name": "a", "kind": "train-classifier", "params": { "widht": 4 } } ] }""", "unknown parameter 'widht'")]
    [InlineData("""{ "stages": [ { "name": "a", "kind": "sample", "inputs": { "checkpoint": "@ghost" } } ] }""", "refers to stage 'ghost'")]
    [InlineData("""{ "stages": [ { "name": "a", "kind": "sample", "inputs": { "checkpoint": "@b" } }, { "name": "b", "kind": "sample", "inputs": { "checkpoint": "@a" } } ] }""", "form a cycle")]
    [InlineData("""{ "stages": [ { "name": "a", "kind": "sample" } ] }""", "needs the input 'checkpoint'")]
    [InlineData("""{ "stages": [ { "name": "a", "kind": "train-classifier", "inputs": { "data": "/no/such/folder" } } ] }""", "stage 'a': input 'data'")]
    [InlineData("""{ "stages": [ { "name": "a", "kind": "eval-classifier", "inputs": { "checkpoint": "x" } }, { "name": "a", "kind": "eval-classifier", "inputs": { "checkpoint": "y" } } ] }""", "one folder")]
    public void BadPipeline_OneLineError_Exit2_NothingRun(string text, string expected)
    {
        using var tmp = new TempDir();
        string file = tmp.File("bad.json");
        File.WriteAllText(file, text);
        var r = Cli.Run("run", file, "--out", tmp.File("out"));
        Assert.Equal(2, r.ExitCode);
        Assert.Contains(expected, r.Err);
        Assert.Single(r.Err.Trim().Split('\n'));
        Assert.False(Directory.Exists(tmp.File("out")));
    }

    /// <summary>Every pipeline shipped in assets/pipelines is valid: known kinds and parameters, inputs that exist, no cycle.</summary>
    [Fact]
    public void ShippedPipelines_AreValid()
    {
        string dir = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(Gen.Pipeline.Stages.SampleStage.Bundled()))!, "..", "pipelines");
        string[] files = Directory.GetFiles(dir, "*.json");
        Assert.Contains(files, f => f.EndsWith("fmnist-quick.json", StringComparison.Ordinal));
        Assert.Contains(files, f => f.EndsWith("fmnist-paper.json", StringComparison.Ordinal));
        var runner = new PipelineRunner(GenCli.Registry());
        foreach (string f in files)
        {
            var stages = runner.Load(f);
            Assert.True(stages.Count > 0, f);
        }
    }
}
